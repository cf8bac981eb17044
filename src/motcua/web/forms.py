"""Forms of the portal and the back office. The declaration form is drawn from the procedure's
JSON Schema; the rules (what is required, what the registry fixes) stay in the services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from motcua.catalog.selectors import AgencyView, ProcedureSnapshot
from motcua.dossiers.selectors import PaperNeed

ACCEPT = "application/pdf,image/jpeg,image/png"


def _label(prop: dict[str, Any], name: str) -> str:
    title = prop.get("title", name)
    english = prop.get("x-title-en")
    return f"{title} / {english}" if english else title


def _string_field(prop: dict[str, Any], **common: Any) -> forms.Field:
    if "enum" in prop:
        titles = prop.get("x-enum-titles", prop["enum"])
        return forms.ChoiceField(
            choices=[("", "—"), *zip(prop["enum"], titles, strict=True)], **common
        )
    if prop.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    validators = (
        [RegexValidator(prop["pattern"], "Sai định dạng / wrong format")]
        if "pattern" in prop
        else []
    )
    widget = forms.Textarea(attrs={"rows": 2}) if prop.get("maxLength", 0) > 200 else None
    return forms.CharField(
        max_length=prop.get("maxLength"), validators=validators, widget=widget, **common
    )


def schema_field(prop: dict[str, Any], name: str, *, required: bool, locked: bool) -> forms.Field:
    common: dict[str, Any] = {
        "label": _label(prop, name),
        "required": required and not locked,
        "disabled": locked,
        "help_text": prop.get("description", ""),
    }
    kind = prop.get("type")
    if kind == "integer":
        return forms.IntegerField(
            min_value=prop.get("minimum"), max_value=prop.get("maximum"), **common
        )
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    return _string_field(prop, **common)


class SubmitForm(forms.Form):
    """The online submission: agency, declaration, the papers nobody holds, fee exemption."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        procedure: ProcedureSnapshot,
        agencies: list[AgencyView],
        papers: list[PaperNeed],
        prefilled: dict[str, Any],
        locked: set[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.fields["agency_id"] = forms.TypedChoiceField(
            label="Cơ quan giải quyết / Agency",
            choices=[(a.id, a.name) for a in agencies],
            coerce=int,
        )
        schema = procedure.form_schema
        required = set(schema.get("required", []))
        fields = procedure.form_fields
        self.declaration_names = [name for name, _ in fields]
        for name, prop in fields:
            self.fields[name] = schema_field(
                prop, name, required=name in required, locked=name in locked
            )
            if name in prefilled:
                self.fields[name].initial = prefilled[name]
        self.uploads = [p for p in papers if p.upload]
        for paper in self.uploads:
            self.fields[f"file_{paper.component.code}"] = forms.FileField(
                label=f"{paper.component.name} / {paper.component.name_en}".rstrip(" /"),
                required=paper.component.required,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
            )
        declared = [e for e in procedure.fee_exemptions if e.get("declared")]
        if procedure.fee and declared:
            self.fields["fee_exemption"] = forms.ChoiceField(
                label="Thuộc diện miễn lệ phí / Fee exemption",
                choices=[("", "Không / none"), *((e["code"], e["label"]) for e in declared)],
                required=False,
            )
        self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def declaration(self) -> dict[str, Any]:
        """The declaration in JSON terms: dates as ISO text, empty answers left out."""
        values: dict[str, Any] = {}
        for name in self.declaration_names:
            value = self.cleaned_data.get(name)
            if isinstance(value, date):
                value = value.isoformat()
            if value not in (None, ""):
                values[name] = value
        return values

    def files_by_component(self) -> dict[str, Any]:
        return {
            p.component.code: self.cleaned_data[f"file_{p.component.code}"]
            for p in self.uploads
            if self.cleaned_data.get(f"file_{p.component.code}")
        }

    def field_for(self, error_key: str) -> str | None:
        """Where a service's error key (`declaration.name`, `file_code`, ...) shows on the form."""
        name = error_key.removeprefix("declaration.")
        return name if name in self.fields else None


class SupplementForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, papers: list[PaperNeed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for paper in papers:
            if paper.upload:
                self.fields[f"file_{paper.component.code}"] = forms.FileField(
                    label=paper.component.name,
                    required=False,
                    widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                )

    def files_by_component(self) -> dict[str, Any]:
        return {
            name.removeprefix("file_"): upload
            for name, upload in self.cleaned_data.items()
            if name.startswith("file_") and upload
        }


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label="Mức độ hài lòng / Satisfaction",
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Góp ý / Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StepForm(forms.Form):
    """An official's workflow step on a dossier, as of the version they saw."""

    action = forms.CharField(max_length=32)
    version = forms.IntegerField()
    note = forms.CharField(required=False, max_length=2000)
    assignee = forms.CharField(required=False, max_length=150)


class ApologyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Lý do chậm trễ / Why it is late",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    new_due = forms.DateField(
        label="Ngày hẹn trả mới / New appointment", widget=forms.DateInput(attrs={"type": "date"})
    )
