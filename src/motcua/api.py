"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Every error has one shape, `{"code", "detail", "errors": {field: message}}`: domain errors, bad
input (ninja's validation and core.inputs's NUL/length rule, which the input middleware applies
before a view runs), refused credentials."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from motcua.core.errors import DomainError, ValidationFailed
from motcua.core.inputs import too_long_message
from motcua.exchange.api import router as exchange_router
from motcua.geo.api import router as geo_router
from motcua.identity.api import router as identity_router
from motcua.registry.api import router as registry_router

api = NinjaAPI(
    title="Motcua API",
    version="1",
    description="Cơ sở dữ liệu dân cư, định danh điện tử và dịch vụ công trực tuyến.",
    urls_namespace="api",
)

# Where ninja puts a value (the first element of an error's `loc`).
_SOURCES = {"path", "query", "header", "cookie", "body", "form", "file"}


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source, parts = parts[0], parts[1:]
        if source == "body" and parts:
            parts = parts[1:]  # the view's parameter name, not a field of the request
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_too_long" and "max_length" in ctx:
        return too_long_message(int(ctx["max_length"]))
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        errors.setdefault(_field(list(error.get("loc", []))), _message(error))
    return domain_error(request, ValidationFailed(errors))


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {
        "code": "unauthorized",
        "detail": gettext("Cần xác thực"),
        "errors": {},
    }
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    body = {"code": "http_error", "detail": str(exc), "errors": {}}
    return api.create_response(request, body, status=exc.status_code)


api.add_router("/geo/", geo_router)
api.add_router("/registry/", registry_router)
api.add_router("/identity/", identity_router)
api.add_router("/exchange/", exchange_router)
