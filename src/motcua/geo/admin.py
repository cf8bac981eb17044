"""Read-only admin: units and the mapping are loaded from the packages, never edited by hand."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from motcua.geo.models import AdministrativeUnit, UnitMapping


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ReadOnlyAdmin):
    list_display = ["key", "full_name", "kind", "level", "scheme", "valid_from", "valid_to"]
    list_filter = ["scheme", "level", "kind"]
    search_fields = ["=key", "=code", "name"]
    ordering = ["key"]
    show_full_result_count = False


@admin.register(UnitMapping)
class UnitMappingAdmin(ReadOnlyAdmin):
    list_display = ["old", "new", "basis"]
    list_filter = ["basis"]
    list_select_related = ["old", "new"]
    search_fields = ["=old__key", "=new__key", "old__name", "new__name"]
    ordering = ["old", "new"]
