"""The Content-Security-Policy of every page (django-csp), with `form-action` widened to where
a form of ours may lead through redirects.

Chromium applies `form-action` to every redirect that follows a form submission, not only to
the form's own target. The provider's forms (sign-in, second factor, consent, RP-initiated
logout) post to this site and are then redirected to a relying party's registered redirect
URI; the portal's sign-out form is redirected to the provider's logout endpoint. So on the
provider's pages `form-action` names 'self', the provider's and the portal's origins, and the
origins of the registered relying parties' redirect URIs (read from the database for those
pages only); every other page gets `form-action 'self'` plus the provider and portal origins.
An injected form can then post only to this platform or to a party registered with it."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from oauth2_provider.models import get_application_model


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def platform_origins() -> set[str]:
    """The portal's and the provider's origins (they differ when the issuer has a host of its
    own)."""
    urls = [str(settings.PUBLIC_URL), str(settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT", ""))]
    return {origin for url in urls if (origin := _origin(url))}


def relying_party_origins() -> set[str]:
    """The origins of every registered redirect and post-logout redirect URI."""
    origins: set[str] = set()
    rows = get_application_model().objects.values_list("redirect_uris", "post_logout_redirect_uris")
    for redirect_uris, logout_uris in rows:
        for uri in f"{redirect_uris} {logout_uris}".split():
            if origin := _origin(uri):
                origins.add(origin)
    return origins


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not response.get("Content-Type", "").startswith("text/html"):
            return parts
        origins = platform_origins()
        if request.path_info.startswith(tuple(settings.CSP_RELYING_PARTY_PATHS)):
            origins |= relying_party_origins()
        if origins:
            parts.update = {**(parts.update or {}), "form-action": sorted(origins)}
        return parts
