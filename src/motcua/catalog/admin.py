"""Procedures are data: administrators edit them here, and each saved change publishes a new
version (dossiers already submitted keep theirs)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext as _

from motcua.catalog.models import (
    Agency,
    Component,
    Official,
    Procedure,
    ProcedureVersion,
    Transition,
    Workflow,
)
from motcua.catalog.services import form_schema_errors, procedure_publish
from motcua.core.actors import Actor
from motcua.core.admin import ReadOnlyAdmin
from motcua.core.audit import audit_record
from motcua.core.errors import ValidationFailed


class OfficialInline(admin.TabularInline):
    model = Official
    extra = 1
    autocomplete_fields = ["user"]


class AuditedAdmin(admin.ModelAdmin):
    """Master data edited by hand still leaves an audit row."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=Actor.from_user(request.user),
            action=f"{obj._meta.model_name}.{'change' if change else 'add'}",
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            after={name: str(form.cleaned_data[name]) for name in form.changed_data},
        )


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "unit_code", "parent", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    inlines = [OfficialInline]


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0
    fields = ("position", "code", "name", "name_en", "required", "source", "source_ref")


class ProcedureForm(ModelForm):
    class Meta:
        model = Procedure
        fields = (
            "code",
            "name",
            "name_en",
            "field",
            "agency_kind",
            "legal_basis",
            "days",
            "civil_status",
            "fee",
            "fee_exemptions",
            "service_level",
            "essential_no",
            "min_eid_level",
            "form_schema",
            "workflow",
            "effects",
            "active",
        )

    def clean_form_schema(self) -> Any:
        schema = self.cleaned_data["form_schema"]
        if errors := form_schema_errors(schema):
            raise ValidationError(list(errors.values()))
        return schema


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    form = ProcedureForm
    list_display = (
        "code", "name", "field", "agency_kind", "days", "fee", "service_level", "min_eid_level",
    )  # fmt: skip
    list_filter = ("field", "agency_kind", "service_level", "min_eid_level", "active")
    search_fields = ("code", "name", "search_key")
    readonly_fields = ("current_version",)
    inlines = [ComponentInline]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        try:
            version = procedure_publish(
                actor=Actor.from_user(request.user), procedure_id=form.instance.pk
            )
        except ValidationFailed as error:
            # The admin saves inside one transaction: rolling it back undoes the whole edit.
            transaction.set_rollback(True)
            messages.error(request, _("Không lưu: %(errors)s") % {"errors": error.errors})
            return
        if version:
            messages.info(
                request, _("Đã công bố phiên bản %(number)s") % {"number": version.number}
            )


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0


@admin.register(Workflow)
class WorkflowAdmin(AuditedAdmin):
    list_display = ("code", "name")
    inlines = [TransitionInline]


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(ReadOnlyAdmin):
    list_display = ("procedure", "number", "published_at", "published_by")
    list_filter = ("procedure__field",)
    search_fields = ("procedure__code", "procedure__name")
