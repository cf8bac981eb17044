"""The OpenID Connect provider's pages in front of django-oauth-toolkit: the authorization
endpoint (with the level a party needs, `max_age`, and consent) and the discovery document."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView

from motcua.identity import services
from motcua.identity.oidc import acr_level, acr_name
from motcua.identity.selectors import live_consent_covers, party_of
from motcua.identity.sessions import authenticated_account, session_state
from motcua.identity.views import with_next


class AuthorizeView(AuthorizationView):
    """django-oauth-toolkit's endpoint, with our rules before it issues a code: the level the
    party needs (its minimum, or `acr_values`) reached by step-up, `max_age` by
    re-authentication, and consent asked once per party and set of claims."""

    template_name = "identity/consent.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = authenticated_account(request)
        if account is None or "login" in request.GET.get("prompt", "").split():
            return self._sign_in(request)
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        party = party_of(credentials["client_id"])
        state = session_state(request) or {}
        if _too_old(request, state):
            return self._sign_in(request)
        needed = _level_needed(request, party.min_level if party else 1)
        if state.get("acr", 0) < needed:
            if account.level >= needed:
                return redirect(with_next("identity:second_factor", request.get_full_path()))
            return _error_redirect(
                request,
                credentials,
                "unmet_authentication_requirements",
                "Dịch vụ yêu cầu tài khoản định danh mức 2 / this service needs a level 2 account",
            )
        if party and (party.first_party or live_consent_covers(account, party, scopes)):
            uri, *_ = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
            return self.redirect(uri, party.application)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        party = party_of(self.oauth2_data.get("client_id", ""))
        context["party"] = party
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        account = authenticated_account(self.request)
        party = party_of(form.cleaned_data.get("client_id", ""))
        if account is None or party is None:
            return self._sign_in(self.request)
        state = session_state(self.request) or {}
        if state.get("acr", 0) < party.min_level:
            return self._sign_in(self.request)
        if form.cleaned_data.get("allow"):
            services.consent_grant(
                account=account, party=party, scopes=form.cleaned_data["scope"].split()
            )
        return super().form_valid(form)

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> Any:
        """The code remembers how the person authenticated, for the id_token's acr and auth_time."""
        state = session_state(request) or {}
        credentials = {
            **credentials,
            "eid_acr": state.get("acr", 1),
            "eid_auth_time": state.get("auth_time", time.time()),
        }
        return super().create_authorization_response(request, scopes, credentials, allow)

    def _sign_in(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.copy()
        query.pop("prompt", None)
        return redirect(with_next("identity:login", f"{request.path}?{query.urlencode()}"))


def _too_old(request: HttpRequest, state: dict[str, Any]) -> bool:
    max_age = request.GET.get("max_age", "")
    return max_age.isdigit() and time.time() - state.get("auth_time", 0) > int(max_age)


def _level_needed(request: HttpRequest, minimum: int) -> int:
    asked = [acr_level(v) for v in request.GET.get("acr_values", "").split()]
    known = [level for level in asked if level is not None]
    return max([minimum, *known[:1]])  # acr_values is in order of preference: take the first


def _error_redirect(
    request: HttpRequest, credentials: dict[str, Any], error: str, description: str
) -> HttpResponse:
    """An error sent back to the (already validated) redirect URI, with `iss` (RFC 9207)."""
    params = {
        "error": error,
        "error_description": description,
        "iss": oauth2_settings.oauth2_authorization_server_issuer(request),
    }
    if credentials.get("state"):
        params["state"] = credentials["state"]
    separator = "&" if "?" in credentials["redirect_uri"] else "?"
    return HttpResponseRedirect(credentials["redirect_uri"] + separator + urlencode(params))


class DiscoveryView(ConnectDiscoveryInfoView):
    """The toolkit's discovery document, stating what this provider actually does."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            id_token_signing_alg_values_supported=["RS256"],
            grant_types_supported=["authorization_code", "refresh_token", "client_credentials"],
            acr_values_supported=[acr_name(1), acr_name(2)],
            claims_supported=[
                "sub",
                "acr",
                "auth_time",
                "name",
                "birthdate",
                "gender",
                "pin",
                "address",
            ],
            prompt_values_supported=["login"],
            ui_locales_supported=["vi", "en"],
        )
        response.content = json.dumps(data).encode()
        return response
