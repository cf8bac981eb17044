"""A third-party relying party against the running provider (pytest-django's live server): a bank
driven by Authlib's OAuth2Session, checking what it receives with joserfc and the provider's
JWKS, as an outside party would. Twenty-six checks, one test each; the provider passes them all
(before issue 13 it failed the replayed code, the query-string token, plain PKCE, `iss` on
error redirects and `acr`/`auth_time` in refreshed id_tokens)."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from oauth2_provider.models import Grant
from pytest_django.live_server_helper import LiveServer

from motcua.identity import services
from motcua.identity.tests.factories import BANK_REDIRECT, PASSWORD, Person, make_party, make_person

# The live server needs committed data, hence transactional tests. Their flush leaves out the
# 18,000 administrative units (reference data that no test here writes), so that each of the
# 26 tests does not pay for restoring them (serialized_rollback); `_units` loads them if an
# earlier test's full flush took them.
NOT_GEO = [app for app in settings.INSTALLED_APPS if app != "motcua.geo"]
pytestmark = pytest.mark.django_db(transaction=True, available_apps=NOT_GEO)

TIMEOUT = 10
SCOPE = "openid profile"


@dataclass
class Provider:
    site: str
    meta: dict[str, Any]

    @property
    def issuer(self) -> str:
        return str(self.meta["issuer"])

    def keys(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.meta["jwks_uri"], timeout=TIMEOUT).json())

    def claims(self, id_token: str) -> dict[str, Any]:
        """The id_token's claims, its signature checked against the provider's JWKS."""
        return dict(jwt.decode(id_token, self.keys(), algorithms=["RS256"]).claims)


@dataclass
class Flow:
    """One authorization request of the bank, and what came back."""

    client: OAuth2Session
    url: str
    verifier: str
    nonce: str
    state: str
    callback: str = ""

    @property
    def answer(self) -> dict[str, str]:
        return _query(self.callback)


@pytest.fixture(autouse=True, scope="module")
def _flushed_after(django_db_blocker: Any) -> Iterator[None]:
    """After the last test, the whole database flushed as any transactional test leaves it:
    the next test with serialized rollback restores the units from its snapshot, which would
    collide with units left here."""
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)


@pytest.fixture(autouse=True)
def _units(transactional_db: None) -> None:
    if not apps.all_models["geo"]["administrativeunit"]._default_manager.exists():
        apps.unset_available_apps()  # the geo command is an installed app's
        try:
            call_command("geo", "load", stdout=io.StringIO())
        finally:
            apps.set_available_apps(NOT_GEO)


@pytest.fixture
def op(live_server: LiveServer, settings: Any) -> Provider:
    settings.PUBLIC_URL = live_server.url
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": live_server.url + "/o",
    }
    meta = requests.get(
        f"{live_server.url}/o/.well-known/openid-configuration", timeout=TIMEOUT
    ).json()
    return Provider(str(live_server.url), meta)


@pytest.fixture
def person() -> Person:
    return make_person()


@pytest.fixture
def bank() -> services.Credentials:
    return make_party()


@pytest.fixture
def browser(op: Provider, person: Person) -> requests.Session:
    """The person's browser, signed in to the provider with the password."""
    session = requests.Session()
    session.get(f"{op.site}/id/dang-nhap/", timeout=TIMEOUT)
    answer = session.post(
        f"{op.site}/id/dang-nhap/",
        {
            "pin": person.pin,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _client(credentials: services.Credentials, **extra: Any) -> OAuth2Session:
    return OAuth2Session(
        credentials.client_id,
        credentials.client_secret,
        scope=SCOPE,
        redirect_uri=BANK_REDIRECT,
        code_challenge_method="S256",
        **extra,
    )


def _request(op: Provider, credentials: services.Credentials, **params: str) -> Flow:
    client = _client(credentials)
    verifier, nonce, state = generate_token(64), generate_token(20), generate_token(20)
    url, _ = client.create_authorization_url(
        op.meta["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        state=state,
        **params,
    )
    return Flow(client, url, verifier, nonce, state)


def _follow(browser: requests.Session, op: Provider, url: str) -> requests.Response:
    """The browser opens the authorization URL and, on the consent screen, allows."""
    page = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    if page.status_code == 200 and 'name="allow"' in page.text:
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        fields["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
        page = browser.post(
            op.meta["authorization_endpoint"],
            {**fields, "allow": "Authorize"},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    return page


def _authorized(
    browser: requests.Session, op: Provider, credentials: services.Credentials, **params: str
) -> Flow:
    flow = _request(op, credentials, **params)
    response = _follow(browser, op, flow.url)
    assert response.status_code == 302, response.text[:300]
    flow.callback = response.headers["Location"]
    return flow


def _tokens(flow: Flow, op: Provider) -> dict[str, Any]:
    return dict(
        flow.client.fetch_token(
            op.meta["token_endpoint"],
            authorization_response=flow.callback,
            code_verifier=flow.verifier,
        )
    )


def _exchange(
    op: Provider, credentials: services.Credentials, code: str, verifier: str
) -> requests.Response:
    return requests.post(
        op.meta["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": BANK_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(credentials.client_id, credentials.client_secret),
        timeout=TIMEOUT,
    )


def _refresh(op: Provider, credentials: services.Credentials, token: str) -> requests.Response:
    return requests.post(
        op.meta["token_endpoint"],
        {"grant_type": "refresh_token", "refresh_token": token},
        auth=(credentials.client_id, credentials.client_secret),
        timeout=TIMEOUT,
    )


def _userinfo(op: Provider, access_token: str) -> requests.Response:
    return requests.get(
        op.meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


# --- 1. discovery ------------------------------------------------------------------------------


def test_01_discovery_names_the_issuer_and_only_the_code_flow_with_s256(op: Provider) -> None:
    assert op.issuer == f"{op.site}/o"
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert op.meta[endpoint].startswith(op.issuer + "/"), endpoint
    assert op.meta["response_types_supported"] == ["code"]
    assert op.meta["code_challenge_methods_supported"] == ["S256"]
    assert op.meta["authorization_response_iss_parameter_supported"] is True
    assert "none" not in op.meta["id_token_signing_alg_values_supported"]


# --- 2-5. redirect URIs and PKCE ---------------------------------------------------------------


def test_02_redirect_uri_must_match_exactly(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    for wrong in (
        BANK_REDIRECT + "/x",
        BANK_REDIRECT + "?next=https://ke-gian.example",
        BANK_REDIRECT.replace("https://", "http://"),
        BANK_REDIRECT.upper(),
        "https://ke-gian.example/dang-nhap/callback",
    ):
        flow = _request(op, bank)
        url = flow.url.replace(
            requests.utils.quote(BANK_REDIRECT, safe=""), requests.utils.quote(wrong, safe="")
        )
        assert url != flow.url
        response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 400, wrong
        assert "Location" not in response.headers


def test_03_authorization_without_pkce_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    client = OAuth2Session(
        bank.client_id, bank.client_secret, scope=SCOPE, redirect_uri=BANK_REDIRECT
    )
    url, state = client.create_authorization_url(op.meta["authorization_endpoint"], nonce="n")
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    answer = _query(response.headers["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert answer["state"] == state


def test_04_plain_pkce_gets_an_error_redirect(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    client = OAuth2Session(
        bank.client_id,
        bank.client_secret,
        scope=SCOPE,
        redirect_uri=BANK_REDIRECT,
        code_challenge_method="plain",
    )
    url, _ = client.create_authorization_url(
        op.meta["authorization_endpoint"], code_verifier=generate_token(64), nonce="n"
    )
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    answer = _query(response.headers["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert answer["iss"] == op.issuer


def test_05_a_wrong_code_verifier_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    with pytest.raises(OAuthError) as refused:
        flow.client.fetch_token(
            op.meta["token_endpoint"],
            authorization_response=flow.callback,
            code_verifier=generate_token(64),
        )
    assert refused.value.error == "invalid_grant"


# --- 6-10. codes and client authentication -----------------------------------------------------


def test_06_a_code_is_single_use(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    _tokens(flow, op)
    again = _exchange(op, bank, flow.answer["code"], flow.verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_07_a_replayed_code_revokes_the_tokens_issued_for_it(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    tokens = _tokens(flow, op)
    assert _userinfo(op, tokens["access_token"]).status_code == 200

    assert _exchange(op, bank, flow.answer["code"], flow.verifier).status_code == 400

    assert _userinfo(op, tokens["access_token"]).status_code in (401, 403)
    assert _refresh(op, bank, tokens["refresh_token"]).status_code == 400


def test_08_codes_live_sixty_seconds_at_most(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    grant = Grant.objects.get(application__client_id=bank.client_id)
    assert grant.expires <= timezone.now() + timedelta(seconds=60)
    Grant.objects.filter(pk=grant.pk).update(expires=timezone.now() - timedelta(seconds=1))
    expired = _exchange(op, bank, flow.answer["code"], flow.verifier)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_09_a_code_is_bound_to_its_client(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    other = make_party(name="Ngân hàng Khác")
    flow = _authorized(browser, op, bank)
    stolen = _exchange(op, other, flow.answer["code"], flow.verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_10_the_token_endpoint_authenticates_the_client(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    forged = services.Credentials(bank.client_id, "sai-" + bank.client_secret)
    refused = _exchange(op, forged, flow.answer["code"], flow.verifier)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "access_token" in _tokens(flow, op)  # the code itself was not spent


# --- 11-16. the id_token -----------------------------------------------------------------------


def test_11_the_id_token_verifies_with_the_jwks(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    id_token = _tokens(_authorized(browser, op, bank), op)["id_token"]
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    assert header["kid"] in {key.kid for key in op.keys().keys}
    assert op.claims(id_token)["aud"] == bank.client_id


def test_12_a_tampered_id_token_fails_verification(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    id_token = _tokens(_authorized(browser, op, bank), op)["id_token"]
    header, _, signature = id_token.split(".")
    tampered = f"{header}.{_b64({**_payload(id_token), 'name': 'Kẻ Giả Mạo'})}.{signature}"
    with pytest.raises(JoseError):
        op.claims(tampered)


def test_13_an_alg_none_id_token_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    id_token = _tokens(_authorized(browser, op, bank), op)["id_token"]
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_payload(id_token))}."
    with pytest.raises(JoseError):
        op.claims(unsigned)  # the relying party's side
    for hint, honoured in ((unsigned, False), (id_token, True)):  # the provider's side
        logout = browser.get(
            f"{op.issuer}/logout/",
            params={"id_token_hint": hint, "post_logout_redirect_uri": BANK_REDIRECT},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert logout.headers.get("Location", "").startswith(BANK_REDIRECT) is honoured, (
            logout.status_code
        )


def test_14_the_id_token_carries_the_registered_claims(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    claims = op.claims(_tokens(flow, op)["id_token"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": op.issuer},
        aud={"essential": True, "value": bank.client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        auth_time={"essential": True},
        acr={"essential": True, "value": "urn:motcua:loa:1"},
    ).validate(claims)
    assert claims["exp"] - time.time() <= 300


def test_15_the_nonce_comes_back_and_another_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    claims = op.claims(_tokens(flow, op)["id_token"])
    jwt.JWTClaimsRegistry(nonce={"essential": True, "value": flow.nonce}).validate(claims)
    with pytest.raises(JoseError):
        jwt.JWTClaimsRegistry(nonce={"essential": True, "value": "another"}).validate(claims)


def test_16_subjects_are_pairwise(
    op: Provider, browser: requests.Session, bank: services.Credentials, person: Person
) -> None:
    other = make_party(name="Ngân hàng Khác")
    first = op.claims(_tokens(_authorized(browser, op, bank), op)["id_token"])["sub"]
    second = op.claims(_tokens(_authorized(browser, op, other), op)["id_token"])["sub"]
    assert first != second
    assert person.pin not in (first, second)


# --- 17-20. the authorization response ---------------------------------------------------------


def test_17_the_authorization_response_carries_iss(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    assert flow.callback.startswith(BANK_REDIRECT + "?")
    assert flow.answer["iss"] == op.issuer and "code" in flow.answer


def test_18_error_redirects_carry_iss(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    denied = _request(op, bank)
    page = browser.get(denied.url, allow_redirects=False, timeout=TIMEOUT)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    answer = browser.post(
        op.meta["authorization_endpoint"],
        {**fields, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},  # "deny"
        headers={"Referer": denied.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    error = _query(answer.headers["Location"])
    assert error["error"] == "access_denied" and error["iss"] == op.issuer
    implicit = _request(op, bank, response_type="token")
    refused = browser.get(implicit.url, allow_redirects=False, timeout=TIMEOUT)
    assert _query(refused.headers["Location"])["iss"] == op.issuer


def test_19_the_state_comes_back(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    assert flow.answer["state"] == flow.state


def test_20_prompt_none_without_a_session_answers_login_required(
    op: Provider, bank: services.Credentials
) -> None:
    flow = _request(op, bank, prompt="none")
    response = requests.get(flow.url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302 and response.headers["Location"].startswith(BANK_REDIRECT)
    answer = _query(response.headers["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == flow.state and answer["iss"] == op.issuer


# --- 21-23. access tokens ----------------------------------------------------------------------


def test_21_userinfo_answers_a_bearer_header_with_the_same_subject(
    op: Provider, browser: requests.Session, bank: services.Credentials, person: Person
) -> None:
    flow = _authorized(browser, op, bank)
    tokens = _tokens(flow, op)
    userinfo = flow.client.get(op.meta["userinfo_endpoint"]).json()
    assert userinfo["sub"] == op.claims(tokens["id_token"])["sub"]
    assert userinfo["name"] == person.full_name


def test_22_an_access_token_in_the_query_string_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    tokens = _tokens(_authorized(browser, op, bank), op)
    response = requests.get(
        op.meta["userinfo_endpoint"],
        params={"access_token": tokens["access_token"]},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400 and "sub" not in response.text


def test_23_the_implicit_flow_is_refused(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _request(op, bank, response_type="token")
    response = browser.get(flow.url, allow_redirects=False, timeout=TIMEOUT)
    location = response.headers["Location"]
    assert _query(location)["error"] == "unauthorized_client"
    assert "access_token" not in location and "#" not in location


# --- 24-26. refresh tokens ---------------------------------------------------------------------


def test_24_refresh_tokens_rotate(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    tokens = _tokens(flow, op)
    refreshed = flow.client.refresh_token(
        op.meta["token_endpoint"], refresh_token=tokens["refresh_token"]
    )
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert _userinfo(op, refreshed["access_token"]).status_code == 200


def test_25_a_reused_refresh_token_revokes_its_family(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    tokens = _tokens(_authorized(browser, op, bank), op)
    rotated = _refresh(op, bank, tokens["refresh_token"]).json()

    reuse = _refresh(op, bank, tokens["refresh_token"])

    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert _refresh(op, bank, rotated["refresh_token"]).status_code == 400  # the family is dead
    assert _userinfo(op, rotated["access_token"]).status_code in (401, 403)


def test_26_refreshed_id_tokens_keep_acr_and_auth_time(
    op: Provider, browser: requests.Session, bank: services.Credentials
) -> None:
    flow = _authorized(browser, op, bank)
    tokens = _tokens(flow, op)
    first = op.claims(tokens["id_token"])
    refreshed = flow.client.refresh_token(
        op.meta["token_endpoint"], refresh_token=tokens["refresh_token"]
    )
    claims = op.claims(refreshed["id_token"])
    assert claims["acr"] == first["acr"] == "urn:motcua:loa:1"
    assert claims["auth_time"] == first["auth_time"]
    assert claims["sub"] == first["sub"] and claims["aud"] == bank.client_id
