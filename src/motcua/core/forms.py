"""What every app's pages share about forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.core.errors import DomainError


def errors_onto(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on the form: field-level errors beside their fields, else on top."""
    if not error.errors:
        form.add_error(None, error.message)
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)


class DateParts(forms.MultiWidget):
    """Day, month and year in three boxes, as people write a date (GOV.UK's date input)."""

    template_name = "motcua/forms/date_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        def part(width: int, autocomplete: str) -> forms.TextInput:
            return forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "class": f"govuk-input--width-{width}",
                    "autocomplete": autocomplete,
                }
            )

        super().__init__([part(2, "off"), part(2, "off"), part(4, "off")], attrs)

    def id_for_label(self, id_: str) -> str:
        # The day box: where the error summary's link and a "change" link take the person.
        return f"{id_}_0" if id_ else ""

    def decompress(self, value: date | None) -> list[int | None]:
        return [value.day, value.month, value.year] if value else [None, None, None]


class DayMonthYearField(forms.MultiValueField):
    """A date typed as day / month / year; a past date only, unless `future` is allowed. One
    message for the date as a whole, never one per box."""

    widget = DateParts

    def __init__(self, *, future: bool = False, **kwargs: Any) -> None:
        self.future = future
        parts = (forms.IntegerField(), forms.IntegerField(), forms.IntegerField())
        super().__init__(parts, require_all_fields=False, **kwargs)

    def clean(self, value: Any) -> date | None:
        parts = [str(part or "").strip() for part in (value or ["", "", ""])]
        if not any(parts):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        if not all(parts):
            raise ValidationError(_("Nhập đủ ngày, tháng và năm"), code="incomplete")
        if not all(part.isdigit() for part in parts):
            raise ValidationError(
                _("Ngày không hợp lệ: ghi ngày/tháng/năm, ví dụ 17/05/1956"), code="invalid"
            )
        day, month, year = (int(part) for part in parts)
        cleaned = self.compress([day, month, year])
        self.validate(cleaned)
        self.run_validators(cleaned)
        return cleaned

    def compress(self, data_list: list[int]) -> date | None:
        if not data_list:
            return None
        day, month, year = data_list
        try:
            value = date(year, month, day)
        except ValueError as error:
            raise ValidationError(_("Ngày không hợp lệ"), code="invalid") from error
        if year < 1900:
            raise ValidationError(_("Năm phải từ 1900 trở đi"), code="invalid")
        if not self.future and value > timezone.localdate():
            raise ValidationError(_("Ngày không được ở tương lai"), code="future")
        return value
