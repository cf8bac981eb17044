"""`motcua geo lookup` and the read-only admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def _lookup(*args: str) -> str:
    out = StringIO()
    call_command("geo", "lookup", *args, stdout=out)
    return out.getvalue()


def test_lookup_by_name_shows_what_old_units_are_now() -> None:
    lines = _lookup("binh duong", "--level", "province").splitlines()
    assert lines[0].startswith("pre2025:74") and "Tỉnh Bình Dương" in lines[0]
    assert lines[1].strip().startswith("→ 2025:79")


def test_lookup_by_key() -> None:
    assert "Phường Sài Gòn, Thành phố Hồ Chí Minh" in _lookup("2025:26740")


def test_lookup_without_a_match_fails() -> None:
    with pytest.raises(CommandError):
        _lookup("zzzzqqqq")


def test_admin_lists_units_and_mapping_read_only(admin_client: Client) -> None:
    for url in ("/admin/geo/administrativeunit/", "/admin/geo/unitmapping/"):
        assert admin_client.get(url, {"q": "Bình Dương"}).status_code == 200
    unit_page = admin_client.get("/admin/geo/administrativeunit/pre2025:74/change/")
    assert unit_page.status_code == 200
    assert "Tỉnh Bình Dương" in unit_page.content.decode()
    assert admin_client.get("/admin/geo/administrativeunit/add/").status_code == 403
