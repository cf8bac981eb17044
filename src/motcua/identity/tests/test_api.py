"""The identity-verification API for partners: client-credentials tokens, per-field answers,
rate limits and the person's access log."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from motcua.core.access import access_log_of
from motcua.core.actors import SYSTEM
from motcua.identity import api, services
from motcua.identity.ratelimit import RateLimiter
from motcua.identity.tests.factories import make_person
from motcua.registry.services import citizen_record_death
from motcua.registry.tests.factories import OFFICIAL

pytestmark = pytest.mark.django_db


def _token(client: Client, credentials: services.Credentials, scope: str = "ekyc") -> str:
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def _verify(client: Client, token: str, **body: object) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/identity/verify",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return response.status_code, response.json()


def test_partner_gets_match_per_field_and_the_read_is_logged() -> None:
    person = make_person()
    _, bank = services.partner_add(actor=SYSTEM, name="Ngân hàng Đồng Tháp")
    client = Client()
    token = _token(client, bank)
    claim = {
        "pin": person.pin,
        "full_name": "TRẦN THỊ BÌNH",
        "birth_date": "1990-03-08",
        "purpose": "Mở tài khoản",
    }

    status, answer = _verify(client, token, **claim, card_number=person.pin)
    assert status == 200
    assert answer == {
        "pin": "match",
        "full_name": "match",
        "birth_date": "match",
        "card_number": "match",
        "alive": True,
        "matches": True,
    }
    status, answer = _verify(
        client, token, **{**claim, "full_name": "Tran Thi Binh", "birth_date": "1990-08-03"}
    )
    assert (
        answer["full_name"],
        answer["birth_date"],
        answer["card_number"],
        answer["matches"],
    ) == ("no_match", "not_checked", "not_checked", False)  # no date told with a wrong name
    assert "Trần" not in str(answer)  # never the registry's data

    log = access_log_of(pin=person.pin)
    assert len(log) == 2 and {r.actor for r in log} == {"partner:Ngân hàng Đồng Tháp"}
    assert log[0].purpose == "Mở tài khoản"


def test_unknown_and_deceased_people() -> None:
    person = make_person()
    citizen_record_death(
        actor=OFFICIAL,
        pin=person.pin,
        death_date=person.birth_date.replace(year=2025),
        reason="test",
    )
    _, bank = services.partner_add(actor=SYSTEM, name="Bệnh viện")
    client = Client()
    token = _token(client, bank)
    _, answer = _verify(
        client,
        token,
        pin=person.pin,
        full_name="Trần Thị Bình",
        birth_date="1990-03-08",
        purpose="Khám bệnh",
    )
    assert answer["alive"] is False and answer["matches"] is False
    _, answer = _verify(
        client, token, pin="087190999999", full_name="X", birth_date="1990", purpose="Khám bệnh"
    )
    assert answer["pin"] == "no_match" and answer["alive"] is None


def test_bad_tokens_bad_input_and_relying_parties_are_refused() -> None:
    person = make_person()
    _, bank = services.partner_add(actor=SYSTEM, name="Ngân hàng")
    client = Client()
    claim = {
        "pin": person.pin,
        "full_name": "Trần Thị Bình",
        "birth_date": "1990-03-08",
        "purpose": "Mở tài khoản",
    }
    assert _verify(client, "khong-phai-token", **claim)[0] == 401
    token = _token(client, bank)
    status, answer = _verify(client, token, **{**claim, "birth_date": "08/03/1990"})
    assert status == 422 and "birth_date" in answer["errors"]  # type: ignore[operator]
    status, answer = _verify(client, token, **{**claim, "pin": "123"})
    assert status == 422 and "pin" in answer["errors"]  # type: ignore[operator]
    basic = base64.b64encode(f"{bank.client_id}:{bank.client_secret}".encode()).decode()
    wrong_scope = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "profile"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert wrong_scope.status_code == 400


def test_each_partner_is_held_to_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    person = make_person()
    _, bank = services.partner_add(actor=SYSTEM, name="Ngân hàng nhỏ", rate_per_second=3)
    monkeypatch.setattr(api, "limiter", RateLimiter())
    client = Client()
    token = _token(client, bank)
    claim = {
        "pin": person.pin,
        "full_name": "Trần Thị Bình",
        "birth_date": "1990-03-08",
        "purpose": "Mở tài khoản",
    }
    statuses = [_verify(client, token, **claim)[0] for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
