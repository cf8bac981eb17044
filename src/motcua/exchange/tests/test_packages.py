"""A linked package filed through a partner portal: once per idempotency key, read with its
steps and the one appointment, only by its applicant, and its steps' status changes sent to the
partner that filed it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from motcua.core.actors import SYSTEM
from motcua.core.models import AccessLog
from motcua.dossiers.selectors import package_id_by_code
from motcua.dossiers.services import package_advance
from motcua.dossiers.tests.factories import as_citizen, pdf_file
from motcua.dossiers.tests.family import Family, birth_declaration, family_ready
from motcua.exchange import services
from motcua.exchange.models import Filing
from motcua.exchange.tests.helpers import (
    Caller,
    Portal,
    access_token,
    id_token_for,
    new_key,
    receiver,
)
from motcua.identity.services import account_create
from motcua.identity.tests.factories import PASSWORD, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def family() -> Family:
    return family_ready()


def _with_eid(citizen: Any, full_name: str) -> Person:
    _account, totp = account_create(actor=SYSTEM, pin=citizen.pin, password=PASSWORD, level=2)
    return Person(citizen.pin, full_name, citizen.birth_date, totp)


def _caller(person: Person, portal: Portal) -> Caller:
    return Caller(access_token(portal.client_id), id_token_for(person, portal, level=2))


def _birth_package(caller: Caller, key: str) -> Any:
    return caller.post(
        "/packages",
        {
            "kind": "birth",
            "declaration": json.dumps(birth_declaration()),
            "file_giay_chung_sinh": pdf_file(),
        },
        key=key,
    )


def test_a_partner_files_a_birth_package_once_and_follows_its_steps(
    family: Family, portal: Portal
) -> None:
    mother = _with_eid(family.mother, "Lê Thị Ngọc")
    caller = _caller(mother, portal)
    key = new_key()

    first, again = _birth_package(caller, key), _birth_package(caller, key)

    assert (first.status_code, again.status_code) == (201, 200), first.content
    code = first.json()["code"]
    assert again.json()["code"] == code and again.json()["created"] is False
    assert Filing.objects.filter(kind="package", code=code, partner_id=portal.id).count() == 1
    package = caller.get(f"/packages/{code}").json()
    assert package["appointment"] == first.json()["appointment"]
    assert len(package["steps"]) == 3
    assert package["status"] == "running"
    assert AccessLog.objects.filter(
        subject_pin=mother.pin, actor=f"partner:{portal.name}", data="dossiers.package"
    ).exists()


def test_another_persons_package_is_not_found(family: Family, portal: Portal) -> None:
    mother = _with_eid(family.mother, "Lê Thị Ngọc")
    father = _with_eid(family.father, "Trần Văn Hùng")
    code = _birth_package(_caller(mother, portal), new_key()).json()["code"]

    response = _caller(father, portal).get(f"/packages/{code}")

    assert response.status_code == 404
    assert code not in response.content.decode()


def test_the_steps_of_a_package_filed_by_a_partner_reach_its_subscription(
    family: Family, portal: Portal, settings: Any
) -> None:
    settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = True
    mother = _with_eid(family.mother, "Lê Thị Ngọc")
    with receiver() as hook:
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        filed = _birth_package(_caller(mother, portal), new_key()).json()
        package_advance(package_id_by_code(actor=as_citizen(mother), code=filed["code"]))

        services.deliveries_scan()
        services.deliveries_send()

        assert hook.received, "the first step's dossier was filed: its submission is an event"
        assert {r.json()["package"] for r in hook.received} == {filed["code"]}
        assert hook.received[0].json()["national_status_code"] == 1
