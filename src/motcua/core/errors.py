"""Error types every app raises; the API and CLI map them to 4xx answers and exit codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self, message: StrOrPromise, *, errors: Mapping[str, StrOrPromise] | None = None
    ) -> None:
        # Translated now, in the language of whoever the error is for (lazy messages too).
        self.message = str(message)
        self.errors: dict[str, str] = {k: str(v) for k, v in (errors or {}).items()}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "detail": self.message, "errors": self.errors}


class ValidationFailed(DomainError):
    """Bad input. `errors` maps each field to what is wrong with it."""

    status = 422
    code = "validation_failed"

    def __init__(
        self, errors: Mapping[str, StrOrPromise], message: StrOrPromise | None = None
    ) -> None:
        super().__init__(message or _("Dữ liệu không hợp lệ"), errors=errors)


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
