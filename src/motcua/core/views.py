from django.db import DatabaseError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.templatetags.static import static

from motcua.core.apikeys import apikey_actor
from motcua.core.middleware import error_page


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness with the database status; 503 when the database does not answer.

    Anyone (the load balancer's probe) gets the status words only. The database's own error
    text names hosts, roles and versions, so only staff (signed in) or a caller with a valid API
    key sees it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": "ok"})
    except DatabaseError as exc:
        body = {"status": "degraded", "database": "error"}
        try:  # who is asking is looked up in the database that just failed: it may fail again
            details = _may_see_details(request)
        except DatabaseError:
            details = False
        if details:
            body["detail"] = str(exc)
        return JsonResponse(body, status=503)


def _may_see_details(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return False
    return apikey_actor(key.strip()) is not None


def favicon(request: HttpRequest) -> HttpResponse:
    # Looked up at request time: in production the name comes from the collected manifest.
    return HttpResponsePermanentRedirect(static("motcua/favicon.svg"))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, status=400)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, status=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request's context: the session and the database may be what failed.
    return HttpResponseServerError(render_to_string("motcua/error.html", {"status": 500}))
