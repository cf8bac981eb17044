"""Officials see records and their audit trail in the admin; each record opened is logged."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from motcua.core.models import AccessLog
from motcua.registry import services
from motcua.registry.tests.factories import OFFICIAL, make_citizen
from motcua.web.tests.staff import official_client

pytestmark = pytest.mark.django_db


def test_opening_a_citizen_shows_the_audit_trail_and_logs_the_read() -> None:
    person = make_citizen()
    services.citizen_record_death(actor=OFFICIAL, pin=person.pk, death_date=date(2026, 1, 5))
    admin_user = User.objects.create_superuser("quantri", password="x-test-password-1")
    client = official_client(admin_user)  # the admin asks for the second factor
    page = client.get(f"/admin/registry/citizen/{person.pk}/change/")
    assert page.status_code == 200
    assert "registry.death" in page.content.decode()
    log = AccessLog.objects.get(subject_pin=person.pk)
    assert (log.actor, log.data) == ("official:quantri", "registry.citizen")
