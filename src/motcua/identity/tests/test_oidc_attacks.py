"""The OpenID Connect holes of issue 13 (items 13 and 6), each attacked through the provider's
HTTP endpoints with Django's test client: every test here failed before the fix."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from motcua.core.actors import SYSTEM
from motcua.core.errors import ValidationFailed
from motcua.identity import services
from motcua.identity.models import RelyingParty, TokenContext
from motcua.identity.tests.factories import (
    BANK_REDIRECT,
    PASSWORD,
    Person,
    authorize_url,
    consent_and_code,
    make_party,
    make_person,
    pkce_pair,
    query_of,
    signed_in,
    token_request,
)

pytestmark = pytest.mark.django_db

ISSUER = "http://localhost:8000/o"
LOA2 = "urn:motcua:loa:2"


def _claims(client: Client, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(client.get("/o/.well-known/jwks.json").json())
    return dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)


def _consent_fields(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    """The consent form as an attacker fills it in by hand, without the GET's checks."""
    return {
        "client_id": client_id,
        "redirect_uri": BANK_REDIRECT,
        "scope": "openid profile",
        "state": "trang-thai-1",
        "nonce": "so-dung-mot-lan",
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "claims": "",
        "resource": "",
        "allow": "Authorize",
        **extra,
    }


def _no_code(response: Any) -> None:
    location = response.get("Location", "")
    assert "code" not in query_of(location) if location.startswith(BANK_REDIRECT) else True, (
        location
    )


def _tokens(client: Client, person: Person, **party: Any) -> tuple[Any, dict[str, object]]:
    bank = make_party(**party)
    signed_in(client, person)
    verifier, challenge = pkce_pair()
    answer = consent_and_code(client, authorize_url(bank.client_id, challenge))
    tokens = token_request(client, bank, code=answer["code"], code_verifier=verifier)
    assert tokens["_status"] == 200, tokens
    return bank, {**tokens, "_code": answer["code"], "_verifier": verifier}


# --- the consent POST is checked like the GET --------------------------------------------------


def test_attack_consent_post_skipping_the_acr_values_step_up_is_refused() -> None:
    person = make_person(level=2)
    bank = make_party()  # asks level 2 per request, by acr_values
    client = Client()
    signed_in(client, person)  # the password alone: acr 1
    _, challenge = pkce_pair()
    url = authorize_url(bank.client_id, challenge, acr_values=LOA2)
    step_up = client.get(url)
    assert step_up["Location"].startswith("/id/xac-thuc-2-lop/")

    forged = client.post("/o/authorize/", _consent_fields(bank.client_id, challenge))

    assert forged.status_code == 302
    assert forged["Location"].startswith("/id/xac-thuc-2-lop/"), forged["Location"]
    _no_code(forged)


def test_attack_consent_post_for_a_request_never_validated_is_refused() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()

    forged = client.post("/o/authorize/", _consent_fields(bank.client_id, challenge))

    assert forged.status_code == 400
    assert "Location" not in forged


def test_attack_consent_post_skipping_max_age_reauthentication_is_refused() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    session = client.session
    session["eid"] = {**session["eid"], "auth_time": session["eid"]["auth_time"] - 600}
    session.save()
    _, challenge = pkce_pair()
    asked = client.get(authorize_url(bank.client_id, challenge, max_age="300"))
    assert asked["Location"].startswith("/id/dang-nhap/")

    forged = client.post("/o/authorize/", _consent_fields(bank.client_id, challenge))

    assert forged.status_code == 302 and forged["Location"].startswith("/id/dang-nhap/")
    _no_code(forged)


# --- prompt=none and max_age=0 -----------------------------------------------------------------


def test_attack_prompt_none_without_a_session_gets_login_required_not_a_login_page() -> None:
    bank = make_party()
    _, challenge = pkce_pair()

    response = Client().get(authorize_url(bank.client_id, challenge, prompt="none"))

    assert response.status_code == 302 and response["Location"].startswith(BANK_REDIRECT)
    answer = query_of(response["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == "trang-thai-1" and answer["iss"] == ISSUER


def test_attack_prompt_none_needing_consent_or_step_up_gets_an_error_not_a_page() -> None:
    person = make_person(level=2)
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()

    no_consent = client.get(authorize_url(bank.client_id, challenge, prompt="none"))
    assert query_of(no_consent["Location"])["error"] == "consent_required"

    consent_and_code(client, authorize_url(bank.client_id, challenge))
    step_up = client.get(
        authorize_url(bank.client_id, challenge, prompt="none", acr_values=LOA2, state="s2")
    )
    assert query_of(step_up["Location"])["error"] == "interaction_required"

    silent = client.get(authorize_url(bank.client_id, challenge, prompt="none", state="s3"))
    assert "code" in query_of(silent["Location"])  # consented, level met: a code, silently


def test_max_age_zero_goes_through_after_a_fresh_sign_in_instead_of_looping() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    url = authorize_url(bank.client_id, challenge, max_age="0")

    login = client.get(url)
    assert login["Location"].startswith("/id/dang-nhap/")
    back = client.post(login["Location"], {"pin": person.pin, "password": PASSWORD})
    assert back.status_code == 302 and back["Location"] == url

    consent = client.get(back["Location"])
    assert consent.status_code == 200, consent.get("Location")  # the consent page, no loop
    assert "code" in consent_and_code(client, url)


def test_attack_prompt_login_then_consent_post_without_signing_in_again_is_refused() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    asked = client.get(authorize_url(bank.client_id, challenge, prompt="login"))
    assert asked["Location"].startswith("/id/dang-nhap/")

    forged = client.post("/o/authorize/", _consent_fields(bank.client_id, challenge))

    assert forged["Location"].startswith("/id/dang-nhap/")
    _no_code(forged)


# --- tokens ------------------------------------------------------------------------------------


def test_refreshed_id_token_keeps_acr_and_auth_time() -> None:
    client = Client()
    bank, tokens = _tokens(client, make_person())
    first = _claims(client, str(tokens["id_token"]))

    refreshed = token_request(
        client, bank, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )

    assert refreshed["_status"] == 200, refreshed
    claims = _claims(client, str(refreshed["id_token"]))
    assert claims["acr"] == first["acr"] == "urn:motcua:loa:1"
    assert claims["auth_time"] == first["auth_time"]
    twice = token_request(
        client, bank, grant_type="refresh_token", refresh_token=str(refreshed["refresh_token"])
    )
    assert _claims(client, str(twice["id_token"]))["acr"] == "urn:motcua:loa:1"


def test_attack_refreshing_past_the_sign_ins_absolute_limit_is_refused(settings: Any) -> None:
    client = Client()
    bank, tokens = _tokens(client, make_person())
    limit = settings.EID_SESSION_LIMITS[1]["absolute"]
    TokenContext.objects.update(auth_time=timezone.now() - timedelta(seconds=limit + 60))

    refreshed = token_request(
        client, bank, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )

    assert refreshed["error"] == "invalid_grant"


def test_attack_replayed_code_revokes_the_tokens_already_issued_for_it() -> None:
    client = Client()
    bank, tokens = _tokens(client, make_person())
    bearer = f"Bearer {tokens['access_token']}"
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=bearer).status_code == 200

    replay = token_request(
        client, bank, code=str(tokens["_code"]), code_verifier=str(tokens["_verifier"])
    )

    assert replay["error"] == "invalid_grant"
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=bearer).status_code in (401, 403)
    refresh = token_request(
        client, bank, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )
    assert refresh["error"] == "invalid_grant"


def test_attack_access_token_in_the_query_string_is_refused() -> None:
    client = Client()
    _, tokens = _tokens(client, make_person())

    response = client.get(f"/o/userinfo/?access_token={tokens['access_token']}")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "sub" not in response.json()


# --- error redirects and PKCE ------------------------------------------------------------------


def test_attack_mix_up_error_redirects_from_the_toolkit_carry_iss() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()

    implicit = client.get(authorize_url(bank.client_id, challenge, response_type="token"))
    assert query_of(implicit["Location"])["error"] == "unauthorized_client"
    assert query_of(implicit["Location"])["iss"] == ISSUER

    page = client.get(authorize_url(bank.client_id, challenge))
    fields = {n: page.context["form"][n].value() or "" for n in page.context["form"].fields}
    denied = client.post("/o/authorize/", {**fields, "allow": ""})
    answer = query_of(denied["Location"])
    assert answer["error"] == "access_denied" and answer["iss"] == ISSUER
    assert list(answer).count("iss") == 1


def _first_party() -> services.Credentials:
    _, credentials = services.rp_add(
        actor=SYSTEM,
        party=services.NewParty(
            name="Cổng thử",
            redirect_uris=[BANK_REDIRECT],
            scopes=["openid", "profile"],
            first_party=True,
        ),
    )
    return credentials


def test_attack_plain_pkce_at_a_first_party_or_consented_party_is_an_error_redirect() -> None:
    person = make_person()
    portal = _first_party()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    consent_and_code(client, authorize_url(bank.client_id, challenge))  # consent remembered
    plain = {"code_challenge": "abc" * 20, "code_challenge_method": "plain"}

    for party in (portal, bank):
        response = client.get(authorize_url(party.client_id, None, **plain))
        assert response.status_code == 302, party.client_id
        answer = query_of(response["Location"])
        assert answer["error"] == "invalid_request" and "code" not in answer
        assert answer["iss"] == ISSUER and answer["state"] == "trang-thai-1"


# --- item 6: the pin scope ---------------------------------------------------------------------


def test_attack_registering_an_untrusted_party_with_the_pin_scope_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_party(scopes=("openid", "pin"), pin_claim=False)
    assert "scopes" in refused.value.errors
    assert not RelyingParty.objects.exists()
    command = ["rp", "add", "--name", "X", "--redirect-uri", BANK_REDIRECT, "--scopes"]
    with pytest.raises(CommandError, match="scopes"):
        call_command(*command, "openid", "pin")
    call_command(*command, "openid", "pin", "--pin-claim", stdout=io.StringIO())
    assert RelyingParty.objects.get().pin_claim


def test_attack_untrusted_party_with_a_stored_pin_scope_never_gets_the_pin() -> None:
    person = make_person()
    bank = make_party(scopes=("openid", "profile", "pin"), pin_claim=True)
    RelyingParty.objects.update(pin_claim=False)  # a row from before the rule, or trust withdrawn
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()

    asked = client.get(authorize_url(bank.client_id, challenge, scope="openid profile pin"))
    assert asked.status_code == 302
    assert query_of(asked["Location"])["error"] == "invalid_scope"

    answer = consent_and_code(client, authorize_url(bank.client_id, challenge))
    tokens = token_request(client, bank, code=answer["code"], code_verifier=verifier)
    claims = _claims(client, str(tokens["id_token"]))
    assert "pin" not in claims and claims["sub"] != person.pin


def test_attack_code_granted_before_pin_trust_was_withdrawn_yields_no_pin() -> None:
    person = make_person()
    bank = make_party(scopes=("openid", "pin"), pin_claim=True)
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()
    answer = consent_and_code(client, authorize_url(bank.client_id, challenge, scope="openid pin"))
    RelyingParty.objects.update(pin_claim=False)  # trust withdrawn while the code is in flight

    tokens = token_request(client, bank, code=answer["code"], code_verifier=verifier)

    assert "pin" not in _claims(client, str(tokens["id_token"]))
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 200 and "pin" not in userinfo.json()
