"""Request guards in front of every view: a cap on the body size (checked on Content-Length, before
anything reads the body) and the input rule of core.inputs on path, query, form and JSON values.

The API (`/api/...`) gets the API's error shape, `{"code", "detail", "errors": {field: ...}}`;
pages get a short 400 page naming the fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from motcua.core.errors import DomainError
from motcua.core.inputs import problems

DEFAULT_FORM_OVERHEAD = 1024 * 1024  # field values and multipart boundaries beside the files


def request_max_bytes(request: HttpRequest) -> int:
    """The largest body this request may send: an upload's cap for multipart forms (a view
    named in REQUEST_MAX_BYTES_BY_VIEW may allow more), DATA_UPLOAD_MAX_MEMORY_SIZE otherwise."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith("multipart/"):
        return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) or 2_621_440
    match = getattr(request, "resolver_match", None)
    by_view: dict[str, int] = getattr(settings, "REQUEST_MAX_BYTES_BY_VIEW", {})
    if match is not None and match.view_name in by_view:
        return int(by_view[match.view_name])
    return int(
        getattr(settings, "REQUEST_MAX_BYTES", settings.UPLOAD_MAX_BYTES + DEFAULT_FORM_OVERHEAD)
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    detail = _("Dữ liệu gửi lên quá lớn (tối đa %(size)s MB)") % {
        "size": number_format(limit / 2**20, decimal_pos=0, force_grouping=True)
    }
    if _is_api(request):
        return JsonResponse(
            {"code": "too_large", "detail": detail, "errors": {"body": detail}}, status=413
        )
    return error_page(request, status=413, message=detail)


def _refused(request: HttpRequest, errors: dict[str, str]) -> HttpResponse:
    detail = _("Dữ liệu không hợp lệ")
    if _is_api(request):
        return JsonResponse(
            {"code": "validation_failed", "detail": detail, "errors": errors}, status=422
        )
    return error_page(request, status=400, message=detail, errors=list(errors.values()))


def error_page(
    request: HttpRequest, *, status: int, message: str = "", errors: list[str] | None = None
) -> HttpResponse:
    """The platform's error page in the layout: what happened in plain words, and a way on."""
    context = {"status": status, "message": message, "errors": errors or []}
    return render(request, "motcua/error.html", context, status=status)


class _NotJson(Exception):
    pass


def _body_values(request: HttpRequest) -> list[tuple[str, Any]]:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return []
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return [(name, value) for name, items in request.POST.lists() for value in items]
    if content_type.startswith("application/json"):
        try:
            return [("", json.loads(request.body))]
        except (ValueError, RecursionError):
            if _is_api(request):  # the API's answer to any bad input: 422, field by field
                raise _NotJson from None
            return []  # a page's view answers that in its own words
    return []


class InputGuardMiddleware:
    """Place it before CsrfViewMiddleware (which reads the form): refuses an over-large body with
    413 and bad text anywhere in the request with 422 (API) or 400 (pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_max_bytes(request)
        if length > limit:
            return _too_large(request, limit)
        values: list[tuple[str, Any]] = [
            *((name, value) for name, value in view_kwargs.items() if isinstance(value, str)),
            *((name, value) for name, items in request.GET.lists() for value in items),
            *(("query", name) for name in request.GET),  # the names are text too
        ]
        try:
            values += _body_values(request)
        except MultiPartParserError:
            return _refused(request, {"body": _("Biểu mẫu gửi lên bị hỏng")})
        except _NotJson:
            return _refused(request, {"body": _("Dữ liệu gửi lên không phải JSON")})
        errors = problems(values)
        return _refused(request, errors) if errors else None


class DomainErrorMiddleware:
    """Every page's answer to a service's refusal, in one place instead of a try/except in each
    view: NotFound -> 404, PermissionDenied -> 403, Conflict -> 409, ValidationFailed -> 422 with
    the fields' messages. A form view that re-shows its form catches ValidationFailed itself.
    The API maps the same errors to its JSON shape (motcua.api), so it is left alone here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _is_api(request) or not isinstance(exception, DomainError | Http404):
            return None
        if isinstance(exception, Http404):
            return error_page(request, status=404)
        return error_page(
            request,
            status=exception.status,  # each error type carries its HTTP status
            message=exception.message,
            errors=list(exception.errors.values()),
        )


class LanguageMiddleware:
    """Vietnamese unless the person chose English with the switch (its cookie). Unlike Django's
    LocaleMiddleware, the browser's Accept-Language is not followed: a Vietnamese platform speaks
    Vietnamese first, whatever language the phone was set up in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
