"""The parent's e-ID documents list their children from the registry: a child appears once
their birth is registered, with the name and date of birth, read as the parent's own data."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from motcua.core.models import AccessLog
from motcua.identity.models import Account
from motcua.identity.selectors import account_overview
from motcua.identity.tests.factories import make_person, signed_in
from motcua.registry.services import citizen_record_death, citizen_register_birth
from motcua.registry.tests.factories import OFFICIAL, ward_keys

pytestmark = pytest.mark.django_db


def _register_child(*, mother_pin: str, full_name: str, born: date, reference: str) -> str:
    return citizen_register_birth(
        actor=OFFICIAL,
        full_name=full_name,
        sex="M",
        birth_date=born,
        birth_place=ward_keys()[0],
        registered_in="087",
        mother_pin=mother_pin,
        reference=reference,
    )


def test_a_newly_registered_child_appears_in_the_parents_documents() -> None:
    parent = make_person(full_name="Trần Thị Bình", sex="F", birth_date=date(1990, 3, 8))
    client = Client()
    signed_in(client, parent)
    before = client.get("/id/tai-khoan/").content.decode()
    assert "Nguyễn Minh Khang" not in before

    _register_child(
        mother_pin=parent.pin,
        full_name="Nguyễn Minh Khang",
        born=date(2026, 11, 1),
        reference="H87.12-261102-0001",
    )

    page = client.get("/id/tai-khoan/").content.decode()
    documents = page.split('id="documents"', 1)[1].split("</dl>", 1)[0]
    assert "Con" in documents
    assert "Nguyễn Minh Khang" in documents
    assert "01/11/2026" in documents
    # The parent reads their own documents: nobody else's read is logged.
    assert not AccessLog.objects.filter(data="registry.children").exists()


def test_the_overview_lists_only_living_children_oldest_first() -> None:
    parent = make_person(full_name="Trần Thị Bình", sex="F", birth_date=date(1980, 3, 8))
    elder = _register_child(
        mother_pin=parent.pin, full_name="Nguyễn Văn An", born=date(2005, 2, 1), reference="H-1"
    )
    younger = _register_child(
        mother_pin=parent.pin, full_name="Nguyễn Văn Bảo", born=date(2010, 2, 1), reference="H-2"
    )
    lost = _register_child(
        mother_pin=parent.pin, full_name="Nguyễn Văn Cao", born=date(2012, 2, 1), reference="H-3"
    )
    citizen_record_death(actor=OFFICIAL, pin=lost, death_date=date(2020, 1, 1))
    overview = account_overview(account=Account.objects.get(pin=parent.pin), session_key=None)
    assert [c.pin for c in overview.children_on_record] == [elder, younger]
    assert overview.children_on_record[0].birth_date_label == "01/02/2005"


def test_another_persons_children_are_not_listed() -> None:
    parent = make_person(full_name="Trần Thị Bình", sex="F")
    other = make_person(full_name="Lê Thị Hoa", sex="F")
    _register_child(
        mother_pin=other.pin, full_name="Phạm Văn Dũng", born=date(2020, 5, 5), reference="H-9"
    )
    overview = account_overview(account=Account.objects.get(pin=parent.pin), session_key=None)
    assert overview.children_on_record == []
