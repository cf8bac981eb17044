"""Error types every app raises; the API and CLI map them to 4xx answers and exit codes."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "detail": self.message, "errors": self.errors}


class ValidationFailed(DomainError):
    """Bad input. `errors` maps each field to what is wrong with it."""

    status = 422
    code = "validation_failed"

    def __init__(
        self, errors: dict[str, str], message: str = "Dữ liệu không hợp lệ / Invalid data"
    ) -> None:
        super().__init__(message, errors=errors)


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
