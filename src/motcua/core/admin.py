from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.calendar import calendar_reset
from motcua.core.models import AccessLog, ApiKey, AuditEntry, Holiday
from motcua.core.text import nfc


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
    list_display = ("name", "user", "scopes", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("name", "user", "scopes", "created_at", "expires_at", "revoked_at")
    # Scopes and expiry are set when the key is made (`apikey_create` checks them); here a key
    # can only be revoked, never widened or prolonged.
    readonly_fields = ("name", "user", "scopes", "created_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by `apikey_create`, which shows the secret once


class HolidayYearFilter(admin.SimpleListFilter):
    title = gettext_lazy("năm")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = Holiday.objects.dates("day", "year", order="DESC")
        return [(str(year.year), str(year.year)) for year in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Holiday]) -> QuerySet[Holiday]:
        year = self.value()
        return queryset.filter(day__year=int(year)) if year and year.isdigit() else queryset


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The calendar deadlines are counted over. Each edit is audited, and resets the cached
    calendar once committed (see `motcua.core.calendar.work_calendar`)."""

    list_display = ("day", "weekday", "name", "kind")
    list_filter = ("kind", HolidayYearFilter)
    search_fields = ("name",)
    ordering = ("day",)

    @admin.display(description=gettext_lazy("thứ"))
    def weekday(self, obj: Holiday) -> str:
        return f"{obj.day:%a}"

    def save_model(self, request: HttpRequest, obj: Holiday, form: ModelForm, change: bool) -> None:
        before = _holiday_data(Holiday.objects.get(pk=obj.pk)) if change else None
        obj.name = nfc(obj.name)
        super().save_model(request, obj, form, change)
        action = "holiday.change" if change else "holiday.add"
        _holiday_audit(request, action, obj, before=before, after=_holiday_data(obj))

    def delete_model(self, request: HttpRequest, obj: Holiday) -> None:
        super().delete_model(request, obj)
        _holiday_audit(request, "holiday.delete", obj, before=_holiday_data(obj), after=None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Holiday]) -> None:
        with transaction.atomic():  # the bulk delete action runs outside the admin's atomic views
            for obj in queryset.select_for_update():
                self.delete_model(request, obj)


def _holiday_data(obj: Holiday) -> dict[str, str]:
    return {"day": obj.day.isoformat(), "name": obj.name, "kind": obj.kind}


def _holiday_audit(
    request: HttpRequest,
    action: str,
    obj: Holiday,
    *,
    before: dict[str, str] | None,
    after: dict[str, str] | None,
) -> None:
    audit_record(
        actor=Actor.from_user(request.user),
        action=action,
        object_type="holiday",
        object_id=str(obj.day),
        before=before,
        after=after,
    )
    transaction.on_commit(calendar_reset)
