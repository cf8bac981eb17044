"""Template helpers every page shares: money by locale, and form fields dressed in the design
system's classes with their hint and error tied to the input (aria-describedby)."""

from __future__ import annotations

from decimal import Decimal

from django import forms, template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

_CLASSES = {
    "radios": "govuk-radios__input",
    "checkboxes": "govuk-checkboxes__input",
    "checkbox": "govuk-checkboxes__input",
    "select": "govuk-select",
    "textarea": "govuk-textarea",
    "file": "govuk-file-upload",
    "date": "govuk-input govuk-date-input__input",
    "input": "govuk-input",
}


@register.filter
def money(amount: int | Decimal | None) -> str:
    """200000 -> "200.000 đ" in Vietnamese, "200,000 VND" in English; "Miễn phí" for nothing."""
    if not amount:
        return _("Miễn phí")
    return _("%(amount)s đ") % {"amount": number_format(amount, decimal_pos=0, force_grouping=True)}


@register.filter
def field_kind(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "file"
    if isinstance(widget, forms.MultiWidget):
        return "date"
    return "input"


@register.simple_tag
def dress(field: forms.BoundField) -> str:
    """Gives the field's widget the design system's class, its error state, and the ids of its
    hint and error message; renders nothing itself."""
    kind = field_kind(field)
    widgets = getattr(field.field.widget, "widgets", [field.field.widget])
    described = [f"{field.auto_id}-hint"] if field.help_text else []
    if field.errors:
        described.append(f"{field.auto_id}-error")
    for widget in widgets:
        classes = [_CLASSES[kind], widget.attrs.get("class", "")]
        if field.errors and kind in ("input", "select", "textarea", "file", "date"):
            classes.append(
                "govuk-input--error" if kind in ("input", "date") else f"govuk-{kind}--error"
            )
        widget.attrs["class"] = " ".join(c for c in classes if c)
        if described and kind not in ("radios", "checkboxes"):
            widget.attrs["aria-describedby"] = " ".join(described)
    return ""
