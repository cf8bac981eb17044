"""The OpenID Connect provider's pages in front of django-oauth-toolkit: the authorization
endpoint (with the level a party needs, `max_age`, `prompt`, and consent), the discovery
document, and userinfo (bearer tokens in the Authorization header only).

An authorization request's requirements (the level it needs, its `max_age`, when it was first
seen, where it returns) are kept in the session, keyed by the request, when the request is
first validated; the consent POST is checked against them again, so that posting the consent
form directly skips neither step-up nor re-authentication."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView, UserInfoView
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from motcua.identity import services
from motcua.identity.models import RelyingParty
from motcua.identity.oidc import acr_level, acr_name
from motcua.identity.selectors import live_consent_covers, party_of
from motcua.identity.sessions import authenticated_account, session_state
from motcua.identity.views import with_next

PENDING_KEY = "oidc_requests"  # session key: the authorization requests in progress
PENDING_TTL_S = 600  # a request not finished within ten minutes starts afresh
PENDING_MAX = 10  # requests kept per session (the oldest go first)
# The fields of an authorization request that the consent form carries back (its key).
_KEY_FIELDS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


class AuthorizeView(AuthorizationView):
    """django-oauth-toolkit's endpoint, with our rules before it issues a code: the level the
    party needs (its minimum, or `acr_values`) reached by step-up, `max_age` by
    re-authentication, `prompt=none` answered without any page, S256 PKCE only, and consent
    asked once per party and set of claims. Every error redirect carries `iss` (RFC 9207)."""

    template_name = "identity/consent.html"

    def handle_no_permission(self) -> HttpResponse:
        """Not signed in at all: the request is validated (and remembered) first, so that
        `prompt=none` gets its error and the sign-in comes back to a known request."""
        if self.request.method != "GET":
            return self._sign_in(self.request)
        return self.get(self.request)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        if credentials.get("code_challenge_method") != "S256":
            return _error_redirect(
                request,
                credentials,
                "invalid_request",
                _('Chỉ nhận PKCE "S256"'),
            )
        prompt = set(request.GET.get("prompt", "").split())
        silent = "none" in prompt
        pending = _remember(request, credentials, scopes)
        account = authenticated_account(request)
        if account is None:
            if silent:
                return _error_redirect(request, credentials, "login_required", _("Cần đăng nhập"))
            return self._sign_in(request)
        party = party_of(credentials["client_id"])
        blocked = self._requirements_unmet(request, pending, silent=silent)
        if blocked is not None:
            return blocked
        if party and (party.first_party or live_consent_covers(account, party, scopes)):
            try:
                uri, *_rest = self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
                )
            except OAuthToolkitError as error:
                return self.error_response(error, party.application)
            return self.redirect(uri, party.application)
        if silent:
            return _error_redirect(
                request,
                credentials,
                "consent_required",
                _("Cần sự đồng ý của người dùng"),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        party = party_of(self.oauth2_data.get("client_id", ""))
        context["party"] = party
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        """The consent answer: only for a request this session has seen, whose requirements
        (level, `max_age`) are checked again here."""
        pending = _pending_of(self.request, _key(form.cleaned_data))
        if pending is None:
            return self.render_to_response(
                {
                    "error": CustomOAuth2Error(
                        error="invalid_request",
                        description=_("Yêu cầu cấp quyền không rõ hoặc đã hết hạn"),
                    )
                },
                status=400,
            )
        account = authenticated_account(self.request)
        party = party_of(form.cleaned_data.get("client_id", ""))
        if account is None or party is None:
            return self._sign_in_to(pending["path"])
        if form.cleaned_data.get("allow"):  # a refusal needs neither step-up nor a new sign-in
            blocked = self._requirements_unmet(self.request, pending, silent=False)
            if blocked is not None:
                return blocked
            services.consent_grant(
                account=account, party=party, scopes=form.cleaned_data["scope"].split()
            )
        return super().form_valid(form)

    def _requirements_unmet(
        self, request: HttpRequest, pending: dict[str, Any], *, silent: bool
    ) -> HttpResponse | None:
        """Re-authentication for `max_age`, step-up for the level: the response that asks for
        them (or, for `prompt=none`, the error), or None when both are met."""
        account = authenticated_account(request)
        assert account is not None
        state = session_state(request) or {}
        credentials = pending["credentials"]
        if _too_old(state, pending):
            if silent:
                return _error_redirect(
                    request, credentials, "login_required", _("Cần đăng nhập lại")
                )
            return self._sign_in_to(pending["path"])
        if state.get("acr", 0) < pending["level"]:
            if account.level < pending["level"]:
                return _error_redirect(
                    request,
                    credentials,
                    "unmet_authentication_requirements",
                    _("Dịch vụ yêu cầu tài khoản định danh mức 2"),
                )
            if silent:
                return _error_redirect(
                    request,
                    credentials,
                    "interaction_required",
                    _("Cần xác thực hai lớp"),
                )
            return redirect(with_next("identity:second_factor", pending["path"]))
        return None

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> Any:
        """The code remembers how the person authenticated, for the id_token's acr and
        auth_time; the request it answers is finished."""
        state = session_state(request) or {}
        credentials = {
            **credentials,
            "eid_acr": state.get("acr", 1),
            "eid_auth_time": state.get("auth_time", time.time()),
        }
        response = super().create_authorization_response(request, scopes, credentials, allow)
        _forget(request, _key({**credentials, "scope": scopes}))
        return response

    def error_response(
        self, error: OAuthToolkitError, application: Any, **kwargs: Any
    ) -> HttpResponse:
        """The toolkit's error answer; a redirect carries `iss` too (RFC 9207)."""
        response: HttpResponse = super().error_response(error, application, **kwargs)
        if response.status_code == 302 and "Location" in response:
            response["Location"] = _with_iss(self.request, response["Location"])
        return response

    def _sign_in(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.copy()
        query.pop("prompt", None)
        return self._sign_in_to(f"{request.path}?{query.urlencode()}")

    def _sign_in_to(self, path: str) -> HttpResponse:
        return redirect(with_next("identity:login", path))


def _key(fields: dict[str, Any]) -> str:
    """The authorization request's identity, as both its GET and the consent form give it."""
    values = []
    for name in _KEY_FIELDS:
        value = fields.get(name) or ""
        if name == "scope" and isinstance(value, list | tuple):
            value = " ".join(value)
        values.append(str(value))
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


def _remember(
    request: HttpRequest, credentials: dict[str, Any], scopes: list[str]
) -> dict[str, Any]:
    """Keep a validated request's requirements in the session. Seen again, it keeps the
    strictest of what was asked, and when it was first seen (for `max_age`)."""
    party: RelyingParty | None = party_of(credentials["client_id"])
    key = _key({**credentials, "scope": scopes})
    now = time.time()
    requests = _pending_all(request, now)
    record = requests.get(key)
    level = _level_needed(request, party.min_level if party else 1)
    asked_age = request.GET.get("max_age", "")
    max_age = int(asked_age) if asked_age.isdigit() else None
    if "login" in request.GET.get("prompt", "").split():
        max_age = 0  # prompt=login: a sign-in after this request, as max_age=0
    query = request.GET.copy()
    query.pop("prompt", None)
    fresh: dict[str, Any] = {
        "first_seen": now,
        "level": level,
        "max_age": max_age,
        "path": f"{request.path}?{query.urlencode()}",
        "credentials": {
            "client_id": credentials["client_id"],
            "redirect_uri": credentials["redirect_uri"],
            "state": credentials.get("state"),
        },
    }
    if record is not None:
        ages: list[int] = [a for a in (record["max_age"], max_age) if a is not None]
        fresh.update(
            first_seen=record["first_seen"],
            level=max(record["level"], level),
            max_age=min(ages) if ages else None,
        )
    requests.pop(key, None)
    requests[key] = fresh
    while len(requests) > PENDING_MAX:
        requests.pop(next(iter(requests)))
    request.session[PENDING_KEY] = requests
    return fresh


def _pending_all(request: HttpRequest, now: float) -> dict[str, Any]:
    requests: dict[str, Any] = request.session.get(PENDING_KEY, {})
    return {k: v for k, v in requests.items() if now - v["first_seen"] <= PENDING_TTL_S}


def _pending_of(request: HttpRequest, key: str) -> dict[str, Any] | None:
    record: dict[str, Any] | None = _pending_all(request, time.time()).get(key)
    return record


def _forget(request: HttpRequest, key: str) -> None:
    requests = request.session.get(PENDING_KEY, {})
    if key in requests:
        del requests[key]
        request.session[PENDING_KEY] = requests


def _too_old(state: dict[str, Any], pending: dict[str, Any]) -> bool:
    """`max_age` is met by an authentication recent enough, or by one made after this
    request was first seen (so `max_age=0` goes through once the person signed in again)."""
    max_age = pending["max_age"]
    if max_age is None:
        return False
    auth_time = state.get("auth_time", 0)
    return time.time() - auth_time > max_age and auth_time < pending["first_seen"]


def _level_needed(request: HttpRequest, minimum: int) -> int:
    asked = [acr_level(v) for v in request.GET.get("acr_values", "").split()]
    known = [level for level in asked if level is not None]
    return max([minimum, *known[:1]])  # acr_values is in order of preference: take the first


def _with_iss(request: HttpRequest, location: str) -> str:
    """`location` with the issuer as its `iss` parameter, once (RFC 9207)."""
    parts = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", oauth2_settings.oauth2_authorization_server_issuer(request)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_redirect(
    request: HttpRequest, credentials: dict[str, Any], error: str, description: str
) -> HttpResponse:
    """An error sent back to the (already validated) redirect URI, with `iss` (RFC 9207)."""
    params = {"error": error, "error_description": description}
    if credentials.get("state"):
        params["state"] = credentials["state"]
    separator = "&" if "?" in credentials["redirect_uri"] else "?"
    location = credentials["redirect_uri"] + separator + urlencode(params)
    return HttpResponseRedirect(_with_iss(request, location))


class UserInfoEndpoint(UserInfoView):
    """The toolkit's userinfo, refusing an access token in the query string (RFC 9700 §2.2,
    RFC 6750 §5.3): it ends up in logs and browser history."""

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponse:
        if "access_token" in request.GET:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": _("Mã truy cập chỉ được gửi trong tiêu đề Authorization"),
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        answer: HttpResponse = super()._create_userinfo_response(request)
        return answer


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
            prompt_values_supported=["none", "login"],
            ui_locales_supported=["vi", "en"],
        )
        response.content = json.dumps(data).encode()
        return response
