"""Partner portals and the provider: a relying party registered with `dossiers` gets an access
token of its own (client credentials) for that scope alone; no other party gets one, and no
other grant or scope widens (RFC 9700). Then the selectors through which the exchange reads
the provider's tokens, without touching the toolkit's tables itself."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from jwcrypto import jwt
from oauth2_provider.models import AccessToken, IDToken

from motcua.core.actors import SYSTEM
from motcua.core.errors import ValidationFailed
from motcua.identity import selectors, services
from motcua.identity.models import Account, RelyingParty
from motcua.identity.oidc import acr_name
from motcua.identity.selectors import ClientToken
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

PORTAL_SCOPES = ("openid", "profile", "pin", "dossiers")


def _portal(name: str = "Cổng Dịch vụ công tỉnh") -> services.Credentials:
    return make_party(scopes=PORTAL_SCOPES, pin_claim=True, name=name)


def _own_token(credentials: services.Credentials, scope: str | None = "dossiers") -> Any:
    """The token endpoint asked for the client's own token (client credentials)."""
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return Client().post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")


def _sign_in_to(
    person: Person, credentials: services.Credentials, scope: str = "openid profile pin"
) -> dict[str, object]:
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()
    answer = consent_and_code(client, authorize_url(credentials.client_id, challenge, scope=scope))
    tokens = token_request(client, credentials, code=answer["code"], code_verifier=verifier)
    assert tokens["_status"] == 200, tokens
    return tokens


def _jti(id_token: object) -> str:
    claims = json.loads(jwt.JWT(jwt=str(id_token)).token.objects["payload"])
    return str(claims["jti"])


# --- the grant -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_portal_gets_a_dossiers_token_of_its_own() -> None:
    portal = _portal()

    response = _own_token(portal)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "dossiers"
    assert "refresh_token" not in body and "id_token" not in body
    assert selectors.client_token_check(body["access_token"]) == ClientToken(
        client_id=portal.client_id, scopes=("dossiers",), personal=False
    )


@pytest.mark.django_db
def test_a_partner_portal_asking_for_no_scope_gets_dossiers_alone() -> None:
    response = _own_token(_portal(), scope=None)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "dossiers"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "scope", ["openid", "profile", "pin", "address", "ekyc", "openid dossiers", "dossiers pin"]
)
def test_a_partner_portals_own_token_carries_no_other_scope(scope: str) -> None:
    """Claims about people come only from a person's sign-in, never with client credentials."""
    response = _own_token(_portal(), scope=scope)

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["dossiers", "openid", None])
def test_a_party_not_registered_for_dossiers_gets_no_token_of_its_own(scope: str | None) -> None:
    bank = make_party(scopes=("openid", "profile", "pin"), pin_claim=True)

    response = _own_token(bank, scope=scope)

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "unauthorized_client"
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_a_party_whose_stored_scopes_were_widened_without_the_pin_trust_gets_nothing() -> None:
    """A row edited past rp_add's rule (dossiers without pin_claim) is not trusted either."""
    bank = make_party(scopes=("openid", "profile"))
    RelyingParty.objects.filter(application__client_id=bank.client_id).update(
        scopes="openid profile dossiers"
    )

    response = _own_token(bank)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.django_db
def test_the_ekyc_partner_cannot_get_a_dossiers_token() -> None:
    _partner, credentials = services.partner_add(actor=SYSTEM, name="Ngân hàng eKYC")

    response = _own_token(credentials, scope="dossiers")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert _own_token(credentials, scope="ekyc").status_code == 200  # its own grant unchanged


@pytest.mark.django_db
def test_the_password_grant_stays_refused_to_a_partner_portal() -> None:
    person = make_person()
    portal = _portal()
    basic = base64.b64encode(f"{portal.client_id}:{portal.client_secret}".encode()).decode()

    response = Client().post(
        "/o/token/",
        {"grant_type": "password", "username": person.pin, "password": PASSWORD},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )

    assert response.status_code == 400
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_registering_dossiers_needs_a_party_trusted_with_the_pin() -> None:
    def party(**fields: Any) -> services.NewParty:
        return services.NewParty(
            **{
                "name": "Cổng thử",
                "redirect_uris": [BANK_REDIRECT],
                "scopes": list(PORTAL_SCOPES),
                "pin_claim": True,
                **fields,
            }
        )

    for refused in (
        party(scopes=["openid", "dossiers"], pin_claim=False),
        party(first_party=True),
        party(scopes=["openid", "ekyc"]),
    ):
        with pytest.raises(ValidationFailed) as error:
            services.rp_add(actor=SYSTEM, party=refused)
        assert "scopes" in error.value.errors
    assert not RelyingParty.objects.exists()
    relying, _credentials = services.rp_add(actor=SYSTEM, party=party())
    assert relying.scopes.split() == list(PORTAL_SCOPES)


# --- a person's own sign-in ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_party_not_registered_for_dossiers_cannot_ask_a_person_for_it() -> None:
    person = make_person()
    bank = make_party(scopes=("openid", "profile", "pin"), pin_claim=True)
    client = Client()
    signed_in(client, person)
    _verifier, challenge = pkce_pair()

    response = client.get(authorize_url(bank.client_id, challenge, scope="openid dossiers"))

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_scope"


@pytest.mark.django_db
def test_a_person_signing_in_to_a_partner_portal_reads_the_dossiers_scope_in_words() -> None:
    person = make_person()
    portal = _portal()
    client = Client()
    signed_in(client, person)
    _verifier, challenge = pkce_pair()

    page = client.get(authorize_url(portal.client_id, challenge, scope="openid dossiers"))

    assert page.status_code == 200
    assert "Nộp và theo dõi hồ sơ thủ tục hành chính thay bạn" in page.content.decode()
    assert "dossiers" not in page.content.decode().split('id="claims"')[1].split("</ul>")[0]


@pytest.mark.django_db
def test_a_persons_token_is_marked_as_a_persons_even_with_the_dossiers_scope() -> None:
    tokens = _sign_in_to(make_person(), _portal(), scope="openid dossiers")

    found = selectors.client_token_check(str(tokens["access_token"]))

    assert found is not None and found.personal
    assert "dossiers" in found.scopes


# --- the selectors -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_or_expired_token_is_not_found() -> None:
    token = _own_token(_portal()).json()["access_token"]
    assert selectors.client_token_check("khong-phai-token") is None
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert selectors.client_token_check(token) is None


@pytest.mark.django_db
def test_an_id_token_names_its_person_to_the_client_it_was_issued_to() -> None:
    person = make_person()
    portal = _portal()
    jti = _jti(_sign_in_to(person, portal)["id_token"])

    assert selectors.id_token_subject(client_id=portal.client_id, jti=jti) == person.pin


@pytest.mark.django_db
def test_an_id_token_issued_to_another_client_names_nobody() -> None:
    person = make_person()
    ours, theirs = _portal(), _portal("Cổng khác")
    jti = _jti(_sign_in_to(person, theirs)["id_token"])

    assert selectors.id_token_subject(client_id=ours.client_id, jti=jti) is None
    assert selectors.id_token_subject(client_id=ours.client_id, jti="khong-co") is None


@pytest.mark.django_db
def test_an_id_token_whose_sign_in_was_revoked_names_nobody() -> None:
    person = make_person()
    portal = _portal()
    jti = _jti(_sign_in_to(person, portal)["id_token"])

    services.tokens_revoke(account=Account.objects.get(pin=person.pin))

    assert IDToken.objects.filter(jti=jti).exists()
    assert selectors.id_token_subject(client_id=portal.client_id, jti=jti) is None


@pytest.mark.django_db
def test_an_expired_id_token_or_an_inactive_person_names_nobody() -> None:
    person = make_person()
    portal = _portal()
    jti = _jti(_sign_in_to(person, portal)["id_token"])
    get_user_model().objects.filter(username=person.pin).update(is_active=False)
    assert selectors.id_token_subject(client_id=portal.client_id, jti=jti) is None

    get_user_model().objects.filter(username=person.pin).update(is_active=True)
    IDToken.objects.filter(jti=jti).update(expires=timezone.now() - timedelta(seconds=1))
    assert selectors.id_token_subject(client_id=portal.client_id, jti=jti) is None


def test_the_provider_levels_read_back_from_their_acr() -> None:
    assert selectors.level_from_acr(acr_name(1)) == 1
    assert selectors.level_from_acr(acr_name(2)) == 2
    for other in (acr_name(3), "urn:motcua:loa:", "urn:motcua:loa:2 ", "2", None, 2, ["x"]):
        assert selectors.level_from_acr(other) is None


@given(st.one_of(st.text(), st.integers(), st.none(), st.lists(st.text())))
def test_nothing_but_the_providers_two_acr_values_is_a_level(acr: object) -> None:
    level = selectors.level_from_acr(acr)
    assert level is None or acr == acr_name(level)
    if acr not in (acr_name(1), acr_name(2)):
        assert level is None
