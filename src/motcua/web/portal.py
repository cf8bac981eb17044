"""The citizen portal signs people in through the e-ID provider as an ordinary OpenID Connect
relying party (Authlib's client): authorization code with PKCE S256, state and nonce, the
id_token checked against the provider's JWKS, and the `iss` of the response (RFC 9207)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from motcua.identity.services import PORTAL_CLIENT_ID, portal_client_ensure, portal_secret

SESSION_KEY = "portal"
NEXT_KEY = "portal_next"  # where the callback sends the citizen back (see views.portal_callback)
STEP_UP_KEY = "portal_step_up"  # the page that last sent the citizen to sign in at a higher level
ACR_PREFIX = "urn:motcua:loa:"
SCOPES = "openid profile pin address"
_oauth = OAuth()


def provider() -> DjangoOAuth2App:
    """The provider as seen from the portal; one client per public address."""
    client: DjangoOAuth2App = _oauth.register(
        name=settings.PUBLIC_URL,
        client_id=PORTAL_CLIENT_ID,
        client_secret=portal_secret(),
        server_metadata_url=f"{settings.PUBLIC_URL}/o/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256"},
    )
    return client


def callback_uri() -> str:
    return settings.PUBLIC_URL + reverse("portal_callback")


def home_uri() -> str:
    return settings.PUBLIC_URL + reverse("home")


def portal_registered() -> None:
    portal_client_ensure(redirect_uri=callback_uri(), home_uri=home_uri())


def portal_user(claims: dict[str, Any], id_token: str) -> dict[str, Any]:
    """What the portal keeps of a signed-in citizen."""
    return {
        "sub": claims["sub"],
        "pin": claims.get("pin", ""),
        "name": claims.get("name", ""),
        "acr": claims.get("acr", ""),
        "id_token": id_token,
    }


def acr_name(level: int) -> str:
    return f"{ACR_PREFIX}{level}"


def session_level(citizen: Mapping[str, Any] | None) -> int:
    """The e-ID level of the portal's sign-in, from the acr of the id_token it kept: 0 when
    nobody is signed in, 1 for an acr the portal does not know."""
    if not citizen or not citizen.get("pin"):
        return 0
    acr = str(citizen.get("acr", ""))
    suffix = acr[len(ACR_PREFIX) :] if acr.startswith(ACR_PREFIX) else ""
    return int(suffix) if suffix in ("1", "2") else 1


def step_up_redirect(request: HttpRequest, *, level: int, back_to: str) -> HttpResponse:
    """Off to the provider to sign in again at `level` (acr_values), and back to `back_to`
    afterwards. The provider asks for the second factor of an account that has the level,
    and answers `unmet_authentication_requirements` for one that has not; `STEP_UP_KEY`
    remembers the attempt, so the page then explains instead of sending the citizen again."""
    portal_registered()
    request.session[NEXT_KEY] = back_to
    request.session[STEP_UP_KEY] = {"path": back_to, "level": level}
    response: HttpResponse = provider().authorize_redirect(
        request, callback_uri(), acr_values=acr_name(level)
    )
    return response


def step_up_tried(request: HttpRequest, *, level: int, path: str) -> bool:
    """Whether this session was already sent to the provider for `level` from `path`."""
    tried = request.session.get(STEP_UP_KEY) or {}
    return bool(tried.get("path") == path and tried.get("level", 0) >= level)
