"""Rates are edited in the admin with an audit row; recipients are read-only there and each one
shown is in the person's access log."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from motcua.benefits import services
from motcua.benefits.models import Recipient
from motcua.core.actors import SYSTEM
from motcua.core.models import AccessLog, AuditEntry
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import official_client

pytestmark = pytest.mark.django_db


def test_rates_are_audited_and_recipients_are_read_only_and_logged() -> None:
    person = make_citizen(birth_date=date(1940, 1, 1))
    services.recipient_register(
        actor=SYSTEM, pin=person.pin, category="elderly_80", since=date(2025, 1, 1)
    )
    client = official_client(
        User.objects.create_superuser("quantri.ld", password="x-test-password-1")
    )
    page = client.post(
        "/admin/benefits/rate/add/",
        {
            "key": "standard",
            "valid_from": "2027-01-01",
            "value": "600000",
            "legal_basis": "Nghị định thử",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    assert AuditEntry.objects.latest("id").action == "benefits.rate_add"
    listing = client.get("/admin/benefits/recipient/")
    assert listing.status_code == 200 and person.pin in listing.content.decode()
    assert AccessLog.objects.filter(subject_pin=person.pin, data="benefits.recipient_list").exists()
    pk = Recipient.objects.get(pin=person.pin).pk
    assert client.get(f"/admin/benefits/recipient/{pk}/change/").status_code == 200
    assert AccessLog.objects.filter(subject_pin=person.pin, data="benefits.recipient").exists()
    assert client.get("/admin/benefits/recipient/add/").status_code == 403
