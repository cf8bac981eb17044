"""Admin for registry officials: records, their life events and audit trail, read-only.
Changes go through the services (with their rules); each record opened is an access-log row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy, gettext_noop

from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.audit import audit_trail
from motcua.registry.models import (
    Absence,
    Citizen,
    Household,
    HouseholdMember,
    IdCard,
    LifeEvent,
    Residence,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LifeEventInline(ReadOnlyInline):
    model = LifeEvent
    fields = (
        "kind",
        "occurred_on",
        "recorded_at",
        "actor",
        "legal_basis",
        "reason",
        "reference",
        "before",
        "after",
    )
    readonly_fields = fields
    ordering = ("id",)


class ResidenceInline(ReadOnlyInline):
    model = Residence
    fields = ("kind", "ward", "address", "household", "valid_from", "valid_to")
    readonly_fields = fields


class IdCardInline(ReadOnlyInline):
    model = IdCard
    fields = ("issued_on", "expires_on", "issued_by", "status")
    readonly_fields = fields


class AbsenceInline(ReadOnlyInline):
    model = Absence
    fields = ("since", "until", "destination", "reason", "recorded_at")
    readonly_fields = fields
    ordering = ("since",)


class AccessLoggedAdmin(admin.ModelAdmin):
    """Opening a record, or a list or search that shows records, shows people's data: each
    person shown gets an access-log row."""

    access_data = "registry.citizen"

    def people_read(self, object_id: str) -> list[str]:
        raise NotImplementedError

    def people_listed(self, objects: list[Any]) -> list[str]:
        """The people whose data a page of the list shows (none unless a model says)."""
        return []

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:  # a list was shown (not a redirect, not an action's page)
            pins = self.people_listed(list(changelist.result_list))
            searched = bool(changelist.query)
            access_log_record(
                actor=Actor.from_user(request.user),
                subject_pins=pins,
                data=f"{self.access_data}_list",
                purpose=(
                    gettext_noop("Tìm kiếm qua trang quản trị")
                    if searched
                    else gettext_noop("Danh sách qua trang quản trị")
                ),
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        access_log_record(
            actor=Actor.from_user(request.user),
            subject_pins=self.people_read(object_id),
            data=self.access_data,
            purpose=gettext_noop("Tra cứu qua trang quản trị"),
        )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Citizen)
class CitizenAdmin(AccessLoggedAdmin):
    list_display = ("pin", "full_name", "sex", "birth_date", "birth_place", "death_date")
    search_fields = ("=pin", "=cmnd", "full_name")
    show_full_result_count = False
    inlines = (LifeEventInline, ResidenceInline, IdCardInline, AbsenceInline)
    readonly_fields = ("audit_trail",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Nhật ký thay đổi"))
    def audit_trail(self, obj: Citizen) -> str:
        entries = audit_trail(object_type="citizen", object_id=obj.pk)
        return (
            format_html_join(
                "",
                "<div>#{} {} {} — {} — {}</div>",
                ((e.pk, f"{e.at:%Y-%m-%d %H:%M}", e.actor, e.action, e.reason) for e in entries),
            )
            or "—"
        )

    def people_read(self, object_id: str) -> list[str]:
        return [object_id]

    def people_listed(self, objects: list[Any]) -> list[str]:
        return [citizen.pk for citizen in objects]


class MemberInline(ReadOnlyInline):
    model = HouseholdMember
    fields = ("citizen", "relation", "joined_on", "left_on")
    readonly_fields = fields


@admin.register(Household)
class HouseholdAdmin(AccessLoggedAdmin):
    list_display = ("id", "ward", "address", "created_on")
    search_fields = ("=id",)
    show_full_result_count = False
    inlines = (MemberInline,)
    readonly_fields = ("ward", "address", "created_on")

    access_data = "registry.household"

    def people_read(self, object_id: str) -> list[str]:
        return list(
            HouseholdMember.objects.filter(household_id=object_id).values_list(
                "citizen_id", flat=True
            )
        )
