"""The citizen portal's pages. Signing in goes through the e-ID provider (see portal.py)."""

from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from motcua.catalog import selectors as catalog
from motcua.web.portal import (
    NEXT_KEY,
    SESSION_KEY,
    callback_uri,
    home_uri,
    portal_registered,
    portal_user,
    provider,
)

POPULAR = 6  # procedures on the start page: the essential services first


def home(request: HttpRequest) -> HttpResponse:
    """The start page: search, sign in, the services most people come for, once-only."""
    context = {
        "citizen": request.session.get(SESSION_KEY),
        "popular": catalog.procedure_search("")[:POPULAR],
        "report": catalog.once_only_report(),
    }
    return render(request, "web/home.html", context)


def portal_login(request: HttpRequest) -> HttpResponse:
    """Off to the e-ID provider; back to the page that asked for a sign-in afterwards."""
    portal_registered()
    wanted = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts=None):
        request.session[NEXT_KEY] = wanted
    response: HttpResponse = provider().authorize_redirect(request, callback_uri())
    return response


def portal_callback(request: HttpRequest) -> HttpResponse:
    client = provider()
    try:
        issuer = client.load_server_metadata()["issuer"]
        if "error" not in request.GET and request.GET.get("iss") != issuer:
            return _login_failed(request, _("Phản hồi không đến từ nhà cung cấp định danh"))
        token = client.authorize_access_token(request)
    except AuthlibBaseError as error:
        back_to = request.session.pop(NEXT_KEY, None)
        if error.error == "unmet_authentication_requirements" and back_to:
            return redirect(back_to)  # that page says what the level needs (the police)
        return _login_failed(request, error.description or error.error)
    request.session.cycle_key()
    request.session[SESSION_KEY] = portal_user(dict(token["userinfo"]), token["id_token"])
    return redirect(request.session.pop(NEXT_KEY, None) or "home")


def _login_failed(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "web/login_failed.html", {"reason": reason}, status=400)


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    """Sign out of the portal and, by RP-initiated logout, of the e-ID session."""
    citizen = request.session.pop(SESSION_KEY, None)
    if citizen is None:
        return redirect("home")
    logout = provider().create_logout_url(
        post_logout_redirect_uri=home_uri(), id_token_hint=citizen["id_token"]
    )
    return redirect(logout["url"])
