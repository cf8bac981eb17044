"""Admin for the social-assistance sector: the rates are edited here (each edit audited); the
people, cards and decisions are shown read-only (changes go through the services and their
rules), and each list or record shown is an access-log row for the people in it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_noop

from motcua.benefits.models import Rate, Recipient, SupportDecision
from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.admin import ReadOnlyAdmin
from motcua.core.audit import audit_record


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    list_display = ("key", "valid_from", "value", "legal_basis")
    list_filter = ("key",)
    ordering = ("key", "-valid_from")

    def save_model(self, request: HttpRequest, obj: Rate, form: ModelForm, change: bool) -> None:
        before = _rate_data(Rate.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        _audit(request, "benefits.rate_change" if change else "benefits.rate_add", obj, before)

    def delete_model(self, request: HttpRequest, obj: Rate) -> None:
        before = _rate_data(obj)
        super().delete_model(request, obj)
        _audit(request, "benefits.rate_delete", obj, before, deleted=True)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a rate that was in force stays on record; a newer row replaces it


def _rate_data(obj: Rate) -> dict[str, str]:
    return {"key": obj.key, "valid_from": str(obj.valid_from), "value": str(obj.value)}


def _audit(
    request: HttpRequest,
    action: str,
    obj: Rate,
    before: dict[str, str] | None,
    *,
    deleted: bool = False,
) -> None:
    audit_record(
        actor=Actor.from_user(request.user),
        action=action,
        object_type="benefits.rate",
        object_id=str(obj.pk),
        reason=obj.legal_basis,
        before=before,
        after=None if deleted else _rate_data(obj),
    )


class PeopleAdmin(ReadOnlyAdmin):
    """Read-only, and each person shown is an access-log row."""

    access_data = "benefits"
    person_fields: tuple[str, ...] = ("pin",)

    def _pins(self, objects: list[Model]) -> list[str]:
        return [getattr(obj, field) for obj in objects for field in self.person_fields]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            access_log_record(
                actor=Actor.from_user(request.user),
                subject_pins=self._pins(list(changelist.result_list)),
                data=f"{self.access_data}_list",
                purpose=gettext_noop("Danh sách qua trang quản trị"),
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        access_log_record(
            actor=Actor.from_user(request.user),
            subject_pins=self._pins([obj] if obj else []),
            data=self.access_data,
            purpose=gettext_noop("Tra cứu qua trang quản trị"),
        )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Recipient)
class RecipientAdmin(PeopleAdmin):
    list_display = ("pin", "category", "monthly_allowance", "since", "ended_on", "end_reason")
    list_filter = ("category", "end_reason")
    search_fields = ("=pin",)
    show_full_result_count = False
    access_data = "benefits.recipient"


@admin.register(SupportDecision)
class SupportDecisionAdmin(PeopleAdmin):
    list_display = ("number", "kind", "deceased_pin", "beneficiary_pin", "amount", "decided_on")
    list_filter = ("kind",)
    search_fields = ("=number", "=deceased_pin", "=beneficiary_pin", "=reference")
    show_full_result_count = False
    access_data = "benefits.supportdecision"
    person_fields = ("deceased_pin", "beneficiary_pin")
