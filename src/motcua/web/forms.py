"""Forms of the portal and the back office. The declaration form is drawn from the procedure's
JSON Schema; the rules (what is required, what the registry fixes) stay in the services."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from motcua.catalog.selectors import AgencyView, ComponentView, ProcedureSnapshot
from motcua.core.forms import DayMonthYearField
from motcua.core.held import HeldFile
from motcua.dossiers.selectors import PaperNeed

ACCEPT = "application/pdf,image/jpeg,image/png"
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
# Dates a declaration may put ahead of today (an appointment, the end of a period); every other
# date is one that has happened. A schema can say so itself with "x-future": true.
FUTURE_DATES = frozenset({"tu_ngay", "den_ngay", "ngay_hen", "ngay_hen_ky"})


def english() -> bool:
    return (get_language() or "vi").startswith("en")


def _label(prop: dict[str, Any], name: str) -> str:
    """The field's title in the page's language (the schema's own data, not the catalog)."""
    if english() and prop.get("x-title-en"):
        return str(prop["x-title-en"])
    return str(prop.get("title", name))


def component_name(component: ComponentView) -> str:
    return component.name_en if english() and component.name_en else component.name


def _text_attrs(prop: dict[str, Any], name: str) -> dict[str, str]:
    """What phones need to offer the right keyboard: digits for PINs, numbers and codes."""
    pattern = str(prop.get("pattern", ""))
    if pattern.startswith("^[0-9+ ]"):
        return {"inputmode": "tel", "autocomplete": "tel", "spellcheck": "false"}
    if pattern.startswith("^[0-9]"):
        return {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
    if prop.get("format") == "email":
        return {"autocomplete": "email", "spellcheck": "false"}
    return {}


def _string_field(prop: dict[str, Any], name: str, **common: Any) -> forms.Field:
    if "enum" in prop:
        titles = prop.get("x-enum-titles-en" if english() else "x-enum-titles") or prop.get(
            "x-enum-titles", prop["enum"]
        )
        return forms.ChoiceField(
            choices=[("", _("Chọn")), *zip(prop["enum"], titles, strict=True)], **common
        )
    if prop.get("format") == "date":
        return DayMonthYearField(future=bool(prop.get("x-future", name in FUTURE_DATES)), **common)
    validators = (
        [RegexValidator(prop["pattern"], _("Sai định dạng: xem hướng dẫn dưới tên ô"))]
        if "pattern" in prop
        else []
    )
    attrs = _text_attrs(prop, name)
    if prop.get("maxLength", 0) > 200:
        widget: forms.Widget = forms.Textarea(attrs={"rows": 2, **attrs})
    else:
        widget = forms.TextInput(attrs=attrs)
    return forms.CharField(
        max_length=prop.get("maxLength"), validators=validators, widget=widget, **common
    )


def schema_field(prop: dict[str, Any], name: str, *, required: bool, locked: bool) -> forms.Field:
    description = prop.get("x-description-en") if english() else None
    common: dict[str, Any] = {
        "label": _label(prop, name),
        "required": required and not locked,
        "disabled": locked,
        "help_text": description or prop.get("description", ""),
    }
    kind = prop.get("type")
    if kind == "integer":
        return forms.IntegerField(
            min_value=prop.get("minimum"),
            max_value=prop.get("maximum"),
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            **common,
        )
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    return _string_field(prop, name, **common)


def _initial(field: forms.Field, value: Any) -> Any:
    if isinstance(field, DayMonthYearField) and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def _file_field(component: ComponentView, *, required: bool) -> forms.FileField:
    return forms.FileField(
        label=component_name(component),
        required=required,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": _("Chọn tệp %(paper)s") % {"paper": component_name(component)}},
    )


class SubmitForm(forms.Form):
    """The online submission: agency, declaration, the papers nobody holds, fee exemption.
    Files already received (held server-side, see core.held) need not be chosen again."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        procedure: ProcedureSnapshot,
        agencies: list[AgencyView],
        papers: list[PaperNeed],
        prefilled: dict[str, Any],
        locked: set[str],
        held: dict[str, HeldFile] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.held = held or {}
        self.fields["agency_id"] = forms.TypedChoiceField(
            label=_("Cơ quan giải quyết"),
            choices=[("", _("Chọn cơ quan")), *((a.id, a.name) for a in agencies)],
            coerce=int,
            error_messages={"required": _("Chọn cơ quan giải quyết hồ sơ")},
        )
        self.fields["agency_id"].widget.attrs["data-filter"] = _(
            "Gõ tên xã, phường hoặc cơ quan để lọc danh sách"
        )
        self.agency_names = {a.id: a.name for a in agencies}
        schema = procedure.form_schema
        required = set(schema.get("required", []))
        self.declaration_names = [name for name, _prop in procedure.form_fields]
        for name, prop in procedure.form_fields:
            field = schema_field(prop, name, required=name in required, locked=name in locked)
            if field.required:
                label = str(field.label or name)
                field.error_messages["required"] = _("Nhập %(field)s") % {
                    "field": label[:1].lower() + label[1:]
                }
            if name in prefilled:
                field.initial = _initial(field, prefilled[name])
            self.fields[name] = field
        self.uploads = [p for p in papers if p.upload]
        for paper in self.uploads:
            name = f"file_{paper.component.code}"
            self.fields[name] = _file_field(
                paper.component, required=paper.component.required and name not in self.held
            )
        declared = [e for e in procedure.fee_exemptions if e.get("declared")]
        if procedure.fee and declared:
            label = "label_en" if english() else "label"
            self.fields["fee_exemption"] = forms.ChoiceField(
                label=_("Thuộc diện miễn lệ phí"),
                choices=[
                    ("", _("Không thuộc diện miễn")),
                    *((e["code"], e.get(label) or e["label"]) for e in declared),
                ],
                required=False,
            )
        self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def rows(self) -> Iterator[tuple[forms.BoundField, str, str]]:
        """Each visible field, with what the page says about a file already received and the
        token that keeps it."""
        for bound in self.visible_fields():
            held = self.held.get(bound.name)
            if held is None:
                yield bound, "", ""
            else:
                kept = _("Đã nhận tệp %(name)s — chọn tệp khác nếu muốn thay") % {
                    "name": held.original_name
                }
                yield bound, kept, held.token

    def declaration(self) -> dict[str, Any]:
        """The declaration in JSON terms: dates as ISO text, empty answers left out. Only the
        fields that passed the form's checks."""
        cleaned = getattr(self, "cleaned_data", {})
        values: dict[str, Any] = {}
        for name in self.declaration_names:
            value = cleaned.get(name)
            if isinstance(value, date):
                value = value.isoformat()
            if value not in (None, ""):
                values[name] = value
        return values

    def field_for(self, error_key: str) -> str | None:
        """Where a service's error key (`declaration.name`, `file_code`, ...) shows on the form."""
        name = error_key.removeprefix("declaration.")
        return name if name in self.fields else None

    def answers(self, draft: dict[str, Any]) -> list[tuple[str, str, str]]:
        """The check-your-answers rows of a saved draft: (label, answer, field id to change)."""
        rows: list[tuple[str, str, str]] = []
        agency = self.agency_names.get(int(draft.get("agency_id") or 0), "")
        rows.append((str(self.fields["agency_id"].label), agency, self["agency_id"].id_for_label))
        declaration = draft.get("declaration", {})
        for name in self.declaration_names:
            field = self.fields[name]
            value = declaration.get(name)
            rows.append((str(field.label), _answer(field, value), self[name].id_for_label))
        for paper in self.uploads:
            name = f"file_{paper.component.code}"
            held = self.held.get(name)
            shown = held.original_name if held else _("Không gửi kèm")
            rows.append((str(self.fields[name].label), shown, self[name].id_for_label))
        if "fee_exemption" in self.fields:
            field = self.fields["fee_exemption"]
            value = draft.get("fee_exemption", "")
            rows.append(
                (str(field.label), _answer(field, value), self["fee_exemption"].id_for_label)
            )
        return rows


def _answer(field: forms.Field, value: Any) -> str:
    """An answer in words: a choice by its label, a date dd/mm/yyyy, yes or no."""
    if isinstance(field, forms.BooleanField):
        return _("Có") if value else _("Không")
    if value in (None, ""):
        return _("Không khai")
    if isinstance(field, DayMonthYearField):
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(field, forms.ChoiceField):
        labels = {str(k): v for k, v in cast(list[tuple[Any, Any]], field.choices)}
        return str(labels.get(str(value), value))
    return str(value)


class SupplementForm(forms.Form):
    """Papers sent when the agency asks for more. Files already received (held, see core.held)
    stay when the form comes back because another file was refused."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        papers: list[PaperNeed],
        held: dict[str, HeldFile] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.held = held or {}
        for paper in papers:
            if paper.upload:
                self.fields[f"file_{paper.component.code}"] = _file_field(
                    paper.component, required=False
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = [name for name in self.fields if name.startswith("file_")]
        if not any(cleaned.get(name) or name in self.held for name in names):
            raise forms.ValidationError(_("Chọn ít nhất một tệp để bổ sung"))
        return cleaned

    rows = SubmitForm.rows


SCORES = (
    (5, gettext_lazy("Rất hài lòng")),
    (4, gettext_lazy("Hài lòng")),
    (3, gettext_lazy("Bình thường")),
    (2, gettext_lazy("Không hài lòng")),
    (1, gettext_lazy("Rất không hài lòng")),
)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("Bạn hài lòng thế nào với cách giải quyết hồ sơ?"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Chọn mức độ hài lòng")},
    )
    comment = forms.CharField(
        label=gettext_lazy("Góp ý"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WithdrawForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Lý do rút hồ sơ"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LookupForm(forms.Form):
    """A dossier's progress by its receipt code and the applicant's PIN, without signing in."""

    code = forms.CharField(
        label=gettext_lazy("Mã hồ sơ (mã biên nhận)"),
        help_text=gettext_lazy("In trên giấy tiếp nhận và hẹn trả, ví dụ UBND-X-261207-0001"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        error_messages={"required": gettext_lazy("Nhập mã hồ sơ")},
    )
    pin = forms.CharField(
        label=gettext_lazy("Số định danh cá nhân của người nộp"),
        help_text=gettext_lazy("12 chữ số, in trên thẻ căn cước"),
        max_length=12,
        validators=[RegexValidator(r"^[0-9]{12}$", gettext_lazy("Số định danh gồm 12 chữ số"))],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
        error_messages={"required": gettext_lazy("Nhập số định danh cá nhân")},
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
        label=gettext_lazy("Lý do chậm trễ"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    new_due = forms.DateField(
        label=gettext_lazy("Ngày hẹn trả mới"), widget=forms.DateInput(attrs={"type": "date"})
    )
