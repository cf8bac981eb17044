"""Rates are edited in the admin with an audit row; people, cards and decisions are read-only
there and each one shown is in the person's access log."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client

from motcua.core.actors import SYSTEM
from motcua.core.models import AccessLog, AuditEntry
from motcua.insurance import services
from motcua.insurance.models import InsuredPerson, Rate
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import official_client

pytestmark = pytest.mark.django_db


def _admin() -> Client:
    user = User.objects.create_superuser("quantri.bhxh", password="x-test-password-1")
    return official_client(user)


def test_a_new_base_salary_is_saved_with_an_audit_row() -> None:
    client = _admin()
    page = client.post(
        "/admin/insurance/rate/add/",
        {
            "key": "base_salary",
            "valid_from": "2027-07-01",
            "value": "2600000",
            "legal_basis": "Nghị định thử",
            "note": "",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    rate = Rate.objects.get(key="base_salary", valid_from=date(2027, 7, 1))
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_id) == ("insurance.rate_add", str(rate.pk))
    assert entry.after == {
        "key": "base_salary",
        "valid_from": "2027-07-01",
        "value": "2600000",
    }


def test_insured_people_are_read_only_and_each_one_shown_is_logged() -> None:
    person = make_citizen()
    services.insured_register(
        actor=SYSTEM, pin=person.pin, standing="insured", since=date(2015, 1, 1)
    )
    client = _admin()
    listing = client.get("/admin/insurance/insuredperson/")
    assert listing.status_code == 200 and person.pin in listing.content.decode()
    assert AccessLog.objects.filter(
        subject_pin=person.pin, data="insurance.insuredperson_list"
    ).exists()
    pk = InsuredPerson.objects.get(pin=person.pin).pk
    record = client.get(f"/admin/insurance/insuredperson/{pk}/change/")
    assert record.status_code == 200
    assert AccessLog.objects.filter(subject_pin=person.pin, data="insurance.insuredperson").exists()
    assert client.get("/admin/insurance/insuredperson/add/").status_code == 403
