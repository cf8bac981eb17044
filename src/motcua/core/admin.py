from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from motcua.core.models import AccessLog, ApiKey, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs are append-only: visible in the admin, never editable there."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "actor", "action", "object_type", "object_id", "reason")
    list_filter = ("action", "object_type")
    search_fields = ("=object_id", "actor")
    show_full_result_count = False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "subject_pin", "actor", "data", "purpose")
    list_filter = ("actor_kind", "data")
    search_fields = ("=subject_pin", "actor")
    show_full_result_count = False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "revoked_at")
    fields = ("name", "user", "created_at", "revoked_at")
    readonly_fields = ("name", "user", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by `apikey_create`, which shows the secret once
