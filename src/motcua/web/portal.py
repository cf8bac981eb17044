"""The citizen portal signs people in through the e-ID provider as an ordinary OpenID Connect
relying party (Authlib's client): authorization code with PKCE S256, state and nonce, the
id_token checked against the provider's JWKS, and the `iss` of the response (RFC 9207)."""

from __future__ import annotations

from typing import Any

from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.urls import reverse

from motcua.identity.services import PORTAL_CLIENT_ID, portal_client_ensure, portal_secret

SESSION_KEY = "portal"
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
