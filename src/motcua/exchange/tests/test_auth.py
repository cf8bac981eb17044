"""Who may call the exchange: refused credentials, each answered with the API's one error shape
and nothing read or written."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken, IDToken

from motcua.core.actors import SYSTEM
from motcua.core.models import AccessLog
from motcua.exchange.models import ExchangePartner
from motcua.exchange.tests.helpers import (
    Caller,
    Portal,
    access_token,
    id_token_for,
    make_portal,
    tokens_for,
)
from motcua.identity.services import partner_add
from motcua.identity.tests.factories import Person, make_party, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person() -> Person:
    return make_person(level=1)


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jwt.JWT(jwt=token).token.objects["payload"]))


def _signed(claims: dict[str, Any], pem: str) -> str:
    key = jwk.JWK.from_pem(pem.encode())
    token = jwt.JWT(
        header={"alg": "RS256", "typ": "JWT", "kid": key.thumbprint()}, claims=json.dumps(claims)
    )
    token.make_signed_token(key)
    return str(token.serialize())


def _provider_pem() -> str:
    return str(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])


def _refused(caller: Caller, status: int) -> dict[str, Any]:
    response = caller.get("/dossiers")
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "detail", "errors"}
    return body


def test_a_real_id_token_with_the_partners_token_is_accepted(
    portal: Portal, person: Person
) -> None:
    caller = Caller(access_token(portal.client_id), id_token_for(person, portal))

    assert caller.get("/dossiers").status_code == 200
    assert AccessLog.objects.filter(subject_pin=person.pin, actor=f"partner:{portal.name}").exists()


def test_a_missing_id_token_is_refused(portal: Portal) -> None:
    body = _refused(Caller(access_token(portal.client_id), ""), 401)
    assert body["code"] == "unauthorized"


def test_a_forged_id_token_signed_by_another_key_is_refused(portal: Portal, person: Person) -> None:
    real = id_token_for(person, portal)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    _refused(Caller(access_token(portal.client_id), _signed(_claims(real), pem)), 401)


def test_a_tampered_id_token_is_refused(portal: Portal, person: Person) -> None:
    header, payload, signature = id_token_for(person, portal).split(".")
    claims = _claims(".".join((header, payload, signature)))
    claims["acr"] = "urn:motcua:loa:2"
    forged_payload = jwk.base64url_encode(json.dumps(claims))

    _refused(Caller(access_token(portal.client_id), f"{header}.{forged_payload}.{signature}"), 401)


def test_an_expired_id_token_is_refused(portal: Portal, person: Person) -> None:
    claims = _claims(id_token_for(person, portal))
    claims["exp"] = int(time.time()) - 1  # re-signed with the provider's own key

    _refused(Caller(access_token(portal.client_id), _signed(claims, _provider_pem())), 401)


def test_an_old_sign_in_is_refused(portal: Portal, person: Person, settings: Any) -> None:
    caller = Caller(access_token(portal.client_id), id_token_for(person, portal))
    settings.EXCHANGE_SIGN_IN_MAX_AGE_S = -1

    _refused(caller, 401)


def test_an_id_token_replayed_from_another_client_is_refused(person: Person) -> None:
    """Another portal (or any relying party) the citizen signed in to cannot lend its id_token
    to this partner: its audience is the other client."""
    ours, theirs = make_portal(), make_portal("Cổng Dịch vụ công tỉnh")
    stolen = id_token_for(person, theirs)

    _refused(Caller(access_token(ours.client_id), stolen), 401)


def test_an_id_token_with_its_audience_rewritten_is_refused(person: Person) -> None:
    """Even signed by the provider's key: the provider never issued that token to this partner."""
    ours, theirs = make_portal(), make_portal("Cổng Dịch vụ công tỉnh")
    claims = _claims(id_token_for(person, theirs))
    claims["aud"] = ours.client_id

    _refused(Caller(access_token(ours.client_id), _signed(claims, _provider_pem())), 401)


def test_an_id_token_whose_sign_in_was_revoked_is_refused(portal: Portal, person: Person) -> None:
    caller = Caller(access_token(portal.client_id), id_token_for(person, portal))
    AccessToken.objects.filter(user__username=person.pin).delete()  # identity's tokens_revoke

    _refused(caller, 401)


def test_a_token_without_the_dossiers_scope_is_forbidden(portal: Portal, person: Person) -> None:
    caller = Caller(access_token(portal.client_id, scope="openid"), id_token_for(person, portal))

    body = _refused(caller, 403)
    assert body["code"] == "insufficient_scope"


def test_an_expired_access_token_is_refused(portal: Portal, person: Person) -> None:
    caller = Caller(access_token(portal.client_id, ttl_s=-1), id_token_for(person, portal))

    _refused(caller, 401)


def test_a_citizens_own_access_token_is_not_a_partners(portal: Portal, person: Person) -> None:
    """The token the portal got from the citizen's sign-in (it has a user) is not the partner's
    client-credentials token, even with the scope."""
    tokens = tokens_for(person, portal)
    id_token = str(tokens["id_token"])
    issued = IDToken.objects.get(jti=_claims(id_token)["jti"])
    AccessToken.objects.filter(pk=issued.access_token.pk).update(scope="openid dossiers")

    _refused(Caller(str(tokens["access_token"]), id_token), 401)


def test_a_client_that_is_not_a_registered_partner_is_forbidden(person: Person) -> None:
    _ekyc, credentials = partner_add(actor=SYSTEM, name="Ngân hàng eKYC")
    relying = make_party(name="Dịch vụ khác")
    caller = Caller(access_token(credentials.client_id), "x")
    assert _refused(caller, 403)["code"] == "permission_denied"
    assert _refused(Caller(access_token(relying.client_id), "x"), 403)


def test_a_deactivated_partner_is_forbidden(portal: Portal, person: Person) -> None:
    caller = Caller(access_token(portal.client_id), id_token_for(person, portal))
    ExchangePartner.objects.filter(pk=portal.id).update(active=False)
    _refused(caller, 403)


def test_the_provider_issues_a_dossiers_token_to_a_partner_portal(
    portal: Portal, person: Person
) -> None:
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "dossiers"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(
            f"{portal.client_id}:{portal.credentials.client_secret}".encode()
        ).decode(),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "dossiers" and "refresh_token" not in body

    caller = Caller(str(body["access_token"]), id_token_for(person, portal))
    assert caller.get("/dossiers").status_code == 200
