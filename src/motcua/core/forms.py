"""What every app's pages share about forms."""

from __future__ import annotations

from django import forms

from motcua.core.errors import DomainError


def errors_onto(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on the form: field-level errors beside their fields, else on top."""
    if not error.errors:
        form.add_error(None, error.message)
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)
