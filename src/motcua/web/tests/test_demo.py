"""`motcua demo` prepares what `make run` shows: a seeded province, a login per role, a key."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client

from motcua.core.models import AccessLog
from motcua.web.demo import DEMO_LOGINS, DEMO_PASSWORD


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_demo_seeds_once_and_prints_working_logins() -> None:
    out = StringIO()
    call_command("demo", "--citizens", "400", "--no-serve", stdout=out)
    printed = out.getvalue()
    assert "400 citizens seeded" in printed
    for login in DEMO_LOGINS:
        assert login.username in printed
        assert authenticate(username=login.username, password=DEMO_PASSWORD) is not None

    key = re.search(r"mck_[\w-]+", printed)
    pin = re.search(r"PIN (\d{12})", printed)
    assert key and pin
    response = Client().get(
        f"/api/registry/citizens/{pin[1]}",
        {"purpose": "demo"},
        headers={"Authorization": f"Bearer {key[0]}"},
    )
    assert response.status_code == 200
    assert [
        e["kind"]
        for e in Client()
        .get(
            f"/api/registry/citizens/{pin[1]}/history",
            {"purpose": "demo"},
            headers={"Authorization": f"Bearer {key[0]}"},
        )
        .json()
    ] == ["registered", "card", "residence"]
    assert AccessLog.objects.filter(subject_pin=pin[1]).count() >= 2

    again = StringIO()
    call_command("demo", "--citizens", "400", "--no-serve", stdout=again)
    assert "existing data reused" in again.getvalue()
