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

    def decompress(self, value: date | None) -> list[int | None]:
        return [value.day, value.month, value.year] if value else [None, None, None]


class DayMonthYearField(forms.MultiValueField):
    """A date typed as day / month / year; a past date only, unless `future` is allowed."""

    widget = DateParts

    def __init__(self, *, future: bool = False, **kwargs: Any) -> None:
        self.future = future
        parts = (
            forms.IntegerField(min_value=1, max_value=31),
            forms.IntegerField(min_value=1, max_value=12),
            forms.IntegerField(min_value=1900, max_value=2100),
        )
        kwargs.setdefault(
            "error_messages",
            {"incomplete": _("Nhập đủ ngày, tháng và năm"), "invalid": _("Ngày không hợp lệ")},
        )
        super().__init__(parts, require_all_fields=True, **kwargs)

    def clean(self, value: Any) -> date | None:
        try:
            return super().clean(value)
        except ValidationError as error:
            # One message for the date as a whole, not one per box.
            if not any(value or []):
                raise
            raise ValidationError(
                _("Ngày không hợp lệ: ghi ngày/tháng/năm, ví dụ 17/05/1956")
            ) from error

    def compress(self, data_list: list[int]) -> date | None:
        if not data_list:
            return None
        day, month, year = data_list
        try:
            value = date(year, month, day)
        except ValueError as error:
            raise ValidationError(
                _("Ngày %(day)s không có trong tháng %(month)s/%(year)s")
                % {"day": day, "month": month, "year": year}
            ) from error
        if not self.future and value > timezone.localdate():
            raise ValidationError(_("Ngày không được ở tương lai"))
        return value
