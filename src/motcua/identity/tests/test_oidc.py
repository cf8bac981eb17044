"""The provider through its HTTP endpoints (Django's test client): the code flow with PKCE,
claims by scope, pairwise subjects, levels and step-up, and the refusals RFC 9700 asks for."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import Grant

from motcua.core.access import access_log_of
from motcua.identity.oidc import pairwise_sub
from motcua.identity.tests.factories import (
    BANK_REDIRECT,
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


def _claims(client: Client, id_token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(client.get("/o/.well-known/jwks.json").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
    return dict(token.claims)


def test_code_flow_gives_a_signed_id_token_with_pairwise_sub_level_and_profile() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()

    answer = consent_and_code(client, authorize_url(bank.client_id, challenge))
    assert answer["state"] == "trang-thai-1"
    assert answer["iss"] == "http://localhost:8000/o"
    tokens = token_request(client, bank, code=answer["code"], code_verifier=verifier)

    assert tokens["_status"] == 200, tokens
    claims = _claims(client, str(tokens["id_token"]))
    assert claims["iss"] == "http://localhost:8000/o"
    assert claims["aud"] == bank.client_id
    assert claims["nonce"] == "so-dung-mot-lan"
    assert claims["acr"] == "urn:motcua:loa:1"
    assert claims["sub"] == pairwise_sub(bank.client_id, person.pin) != person.pin
    assert claims["name"] == "Trần Thị Bình"
    assert claims["birthdate"] == "1990-03-08" and claims["gender"] == "female"
    assert "pin" not in claims and "address" not in claims  # scopes not asked for
    userinfo = client.get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["name"] == "Trần Thị Bình"
    readers = {row.actor for row in access_log_of(pin=person.pin)}
    assert readers == {"partner:Ngân hàng Thử nghiệm"}


def test_two_parties_see_different_subjects_and_a_trusted_one_gets_the_pin() -> None:
    person = make_person()
    trusted = make_party(
        scopes=("openid", "pin", "address"), pin_claim=True, name="Bảo hiểm xã hội"
    )
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()
    answer = consent_and_code(
        client, authorize_url(trusted.client_id, challenge, scope="openid pin address")
    )
    claims = _claims(
        client,
        str(
            token_request(client, trusted, code=answer["code"], code_verifier=verifier)["id_token"]
        ),
    )
    assert claims["sub"] == claims["pin"] == person.pin
    assert claims["address"]["country"] == "VN"  # type: ignore[index]
    assert pairwise_sub("a", person.pin) != pairwise_sub("b", person.pin)


def test_consent_is_asked_once_and_withdrawal_asks_again() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    first = client.get(authorize_url(bank.client_id, challenge))
    assert first.status_code == 200 and "Ngân hàng Thử nghiệm" in first.content.decode()
    consent_and_code(client, authorize_url(bank.client_id, challenge))
    assert client.get(authorize_url(bank.client_id, challenge)).status_code == 302  # remembered

    consent_id = client.get("/id/tai-khoan/").context["o"].consents[0].id
    client.post(f"/id/tai-khoan/dong-y/{consent_id}/rut/")
    assert client.get(authorize_url(bank.client_id, challenge)).status_code == 200


def test_wrong_redirect_uri_is_refused_without_redirecting() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    for wrong in (
        BANK_REDIRECT + "x",
        BANK_REDIRECT.replace("https", "http"),
        "https://ke-gian.example/cb",
    ):
        response = client.get(authorize_url(bank.client_id, challenge, redirect_uri=wrong))
        assert response.status_code == 400, wrong
        assert "Location" not in response


@pytest.mark.parametrize(
    "pkce",
    [{}, {"code_challenge": "abc" * 20, "code_challenge_method": "plain"}],
    ids=["missing", "plain"],
)
def test_authorization_without_s256_pkce_is_refused(pkce: dict[str, str]) -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    response = client.get(authorize_url(bank.client_id, None, **pkce))
    if response.status_code == 200:  # plain passes validation, then the code is refused
        response = client.post(
            "/o/authorize/",
            {
                **{
                    n: response.context["form"][n].value() or ""
                    for n in response.context["form"].fields
                },
                "allow": "Authorize",
            },
        )
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer


def _code(client: Client, bank_id: str, challenge: str) -> str:
    return consent_and_code(client, authorize_url(bank_id, challenge))["code"]


def test_wrong_verifier_reused_code_and_expired_code_are_refused() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()

    code = _code(client, bank.client_id, challenge)
    assert (
        token_request(client, bank, code=code, code_verifier=pkce_pair()[0])["error"]
        == "invalid_grant"
    )

    code = _code(client, bank.client_id, challenge)
    assert token_request(client, bank, code=code)["error"] == "invalid_request"  # no verifier

    code = _code(client, bank.client_id, challenge)
    assert token_request(client, bank, code=code, code_verifier=verifier)["_status"] == 200
    assert (
        token_request(client, bank, code=code, code_verifier=verifier)["error"] == "invalid_grant"
    )

    code = _code(client, bank.client_id, challenge)
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    assert (
        token_request(client, bank, code=code, code_verifier=verifier)["error"] == "invalid_grant"
    )


def test_codes_live_at_most_sixty_seconds_and_implicit_flow_is_off() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    code = _code(client, bank.client_id, challenge)
    assert Grant.objects.get(code=code).expires <= timezone.now() + timedelta(seconds=60)
    response = client.get(authorize_url(bank.client_id, challenge, response_type="token"))
    assert query_of(response["Location"])["error"] == "unauthorized_client"
    assert "access_token" not in response["Location"]


def test_level_2_demanded_of_a_level_1_account_is_refused_not_downgraded() -> None:
    person = make_person(level=1)
    bank = make_party()
    client = Client()
    signed_in(client, person)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(bank.client_id, challenge, acr_values="urn:motcua:loa:2"))
    answer = query_of(response["Location"])
    assert response["Location"].startswith(BANK_REDIRECT)
    assert answer["error"] == "unmet_authentication_requirements"
    assert answer["state"] == "trang-thai-1" and "code" not in answer


def test_level_2_account_steps_up_with_its_second_factor() -> None:
    person = make_person(level=2)
    bank = make_party(min_level=2)
    client = Client()
    signed_in(client, person)  # the password alone: a level 1 session
    verifier, challenge = pkce_pair()
    url = authorize_url(bank.client_id, challenge)

    step_up = client.get(url)
    assert step_up.status_code == 302 and step_up["Location"].startswith("/id/xac-thuc-2-lop/")
    assert (
        client.post(step_up["Location"], {"code": "000000", "next": url}).status_code == 200
    )  # wrong
    time.sleep(1.1)  # django-otp holds off the next try for a second after a failure
    done = client.post(step_up["Location"], {"code": person.totp_now(), "next": url})
    assert done.status_code == 302 and done["Location"] == url

    answer = consent_and_code(client, url)
    claims = _claims(
        client,
        str(token_request(client, bank, code=answer["code"], code_verifier=verifier)["id_token"]),
    )
    assert claims["acr"] == "urn:motcua:loa:2"


def test_max_age_forces_a_fresh_sign_in() -> None:
    person = make_person()
    bank = make_party()
    client = Client()
    signed_in(client, person)
    session = client.session
    session["eid"] = {**session["eid"], "auth_time": session["eid"]["auth_time"] - 600}
    session.save()
    _, challenge = pkce_pair()
    response = client.get(authorize_url(bank.client_id, challenge, max_age="300"))
    assert response.status_code == 302 and response["Location"].startswith("/id/dang-nhap/")


def test_discovery_states_what_the_provider_does() -> None:
    meta = Client().get("/o/.well-known/openid-configuration").json()
    assert meta["issuer"] == "http://localhost:8000/o"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "urn:motcua:loa:2" in meta["acr_values_supported"]
    assert "pairwise" in meta["subject_types_supported"]
    assert "password" not in meta["grant_types_supported"]
