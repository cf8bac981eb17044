"""Reads of people's data that left no trace (issue 13, item 11): the admin's citizen list and
search, and the back-office queue's search by PIN or receipt code. Each person shown now gets a
row in their access log, with the official as the reader."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse

from motcua.catalog.tests.factories import Agency
from motcua.core.models import AccessLog
from motcua.dossiers.tests.factories import (
    agencies_ready,
    agency_of,
    catalog_ready,
    make_official,
    submit,
)
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import official_client

pytestmark = pytest.mark.django_db


def _since(mark: int) -> QuerySet[AccessLog]:
    """The access-log rows written after `mark` (the log is append-only)."""
    return AccessLog.objects.filter(pk__gt=mark)


def _mark() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _log(mark: int) -> list[tuple[str, str, str]]:
    return sorted(_since(mark).values_list("subject_pin", "actor", "purpose"))


def test_attack_admin_citizen_list_and_search_unlogged_is_refused() -> None:
    first = make_citizen(full_name="Phạm Thị Lan")
    second = make_citizen(full_name="Đỗ Văn Minh")
    admin = official_client(User.objects.create_superuser("quantri", password="x-test-pw-1"))

    mark = _mark()
    found = admin.get("/admin/registry/citizen/", {"q": first.pk})
    assert found.status_code == 200 and "Phạm Thị Lan" in found.content.decode()
    search = "Tìm kiếm qua trang quản trị"
    assert _log(mark) == [(first.pk, "official:quantri", search)]
    assert _since(mark).get().data == "registry.citizen_list"

    mark = _mark()
    listed = admin.get("/admin/registry/citizen/")
    assert "Đỗ Văn Minh" in listed.content.decode()
    purpose = "Danh sách qua trang quản trị"
    assert _log(mark) == sorted(
        [(first.pk, "official:quantri", purpose), (second.pk, "official:quantri", purpose)]
    )

    mark = _mark()
    admin.get("/admin/registry/citizen/", {"q": "không có ai tên này"})
    assert not _since(mark).exists()  # nobody shown, nobody read


@pytest.fixture
def commune() -> Agency:
    catalog_ready()
    return agency_of("commune", agencies_ready()[0])


def test_attack_queue_pin_search_unlogged_is_refused(commune: Agency) -> None:
    citizen = make_citizen(full_name="Trần Thị Bình")
    other = make_citizen(full_name="Lê Văn Khác")
    dossier = submit(citizen, commune)
    submit(other, commune)
    make_official("hotich.an", commune, "receiver")
    client = official_client(User.objects.get(username="hotich.an"))
    url = reverse("backoffice:queue", args=[commune.pk])
    mark = _mark()  # after what the submissions logged

    client.get(url)
    assert not _since(mark).exists()  # the agency's own queue: its daily work

    searched = client.get(url, {"q": citizen.pin})
    assert dossier.code in searched.content.decode()
    assert [(r.subject_pin, r.actor, r.data) for r in _since(mark)] == [
        (citizen.pin, "official:hotich.an", "dossiers.queue_search")
    ]
    client.get(url, {"q": dossier.code})
    assert _since(mark).filter(subject_pin=citizen.pin).count() == 2
    assert not _since(mark).filter(subject_pin=other.pin).exists()
