"""The back office's work lists (issue 14): "waiting for me" holds the dossiers whose next step is
the official's own (a processing officer's only when assigned to them), "waiting for my agency"
holds all of the agency's open dossiers; each row says who acts next and when it is due, the
overdue in red; the lists export to CSV and Excel in words, and each export is a read of the
applicants, in their access log."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from motcua.catalog.tests.factories import Agency, agency_find
from motcua.core.actors import Actor
from motcua.core.models import AccessLog
from motcua.dossiers import services
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
ABSENCE = "1.003677"  # Khai báo tạm vắng: commune police, the standard one-stop workflow
Dossier: Any = apps.get_model("dossiers", "Dossier")


@pytest.fixture
def police() -> Agency:
    catalog_ready()
    return agency_find("commune_police", agency_of("commune", agencies_ready()[0]).unit_code)


def _official(username: str, agency: Agency, *roles: str, name: str = "") -> Client:
    make_official(username, agency, *roles)
    user = User.objects.get(username=username)
    if name:
        user.first_name, user.last_name = name.rsplit(" ", 1)
        user.save()
    return official_client(user)


def _act(username: str, dossier_id: int, action: str, **step: Any) -> None:
    actor = Actor.from_user(User.objects.get(username=username))
    version = Dossier.objects.get(pk=dossier_id).version
    services.dossier_act(
        actor=actor,
        step=services.Step(dossier_id=dossier_id, action=action, version=version, **step),
    )


def _rows(html: str) -> dict[str, str]:
    """Each row of the list by its receipt code, as text."""
    found = {}
    for row in re.findall(r'<tr class="govuk-table__row" id="row-\d+">(.*?)</tr>', html, re.S):
        code = re.search(r'href="/can-bo/ho-so/\d+/">([^<]+)</a>', row)
        assert code is not None
        found[code[1]] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    return found


@pytest.fixture
def desk(police: Agency) -> dict[str, Any]:
    """Three dossiers at the police post: one just submitted, one received, one assigned."""
    clients = {
        "mot.cua": _official("mot.cua", police, "receiver", name="Lê Thu Hà"),
        "truong": _official("truong", police, "approver", name="Võ Văn Trưởng"),
        "dtv.mot": _official("dtv.mot", police, "processor", name="Trần Văn Một"),
        "dtv.hai": _official("dtv.hai", police, "processor", name="Phạm Văn Hai"),
    }
    submitted = submit(make_citizen(full_name="Nguyễn Thị Mới"), police, ABSENCE)
    received = submit(make_citizen(full_name="Đặng Văn Nhận"), police, ABSENCE)
    assigned = submit(make_citizen(full_name="Hồ Thị Giao"), police, ABSENCE)
    _act("mot.cua", received.id, "receive")
    _act("mot.cua", assigned.id, "receive")
    _act("mot.cua", assigned.id, "assign", assignee="dtv.mot")
    return {"clients": clients, "dossiers": (submitted, received, assigned)}


def test_waiting_for_me_holds_the_steps_of_my_role_and_my_assignments(
    police: Agency, desk: dict[str, Any]
) -> None:
    submitted, received, assigned = desk["dossiers"]
    mine = {
        name: set(_rows(client.get(reverse("backoffice:start")).content.decode()))
        for name, client in desk["clients"].items()
    }
    assert mine["mot.cua"] == {submitted.code, received.code}  # receive; assign
    assert mine["truong"] == {received.code}  # the approver may assign too
    assert mine["dtv.mot"] == {assigned.code}  # assigned to him
    assert mine["dtv.hai"] == set()  # another officer's dossier is not his
    empty = desk["clients"]["dtv.hai"].get(reverse("backoffice:start")).content.decode()
    assert "Không có hồ sơ nào đang chờ bạn" in empty
    # The same list at its own address, linked from the page, marked as the current one.
    assert f'href="{reverse("backoffice:mine")}" aria-current="page"' in empty
    again = desk["clients"]["dtv.mot"].get(reverse("backoffice:mine")).content.decode()
    assert set(_rows(again)) == {assigned.code}


def test_waiting_for_my_agency_holds_everything_open_with_who_acts_next(
    police: Agency, desk: dict[str, Any]
) -> None:
    submitted, received, assigned = desk["dossiers"]
    Dossier.objects.filter(pk=submitted.id).update(due_on=timezone.localdate() - timedelta(days=3))
    page = desk["clients"]["dtv.hai"].get(reverse("backoffice:queue", args=[police.pk]))
    html = page.content.decode()
    rows = _rows(html)
    assert set(rows) == {submitted.code, received.code, assigned.code}
    assert "Cán bộ tiếp nhận" in rows[submitted.code]
    assert "Cán bộ tiếp nhận" in rows[received.code]
    assert "Lãnh đạo phê duyệt" in rows[received.code]
    assert "Cán bộ xử lý: Trần Văn Một" in rows[assigned.code]
    assert "Quá hạn" in rows[submitted.code] and "Quá hạn" not in rows[received.code]
    overdue_row = re.search(rf'id="row-{submitted.id}">(.*?)</tr>', html, re.S)
    assert overdue_row is not None and "govuk-tag--red" in overdue_row[1]
    assert re.search(r"\d{2}/\d{2}/\d{4}", rows[received.code])  # dates as people write them
    for code in ("receiver", "processor", "approver", "submitted", "received", "assigned"):
        assert f">{code}<" not in html and f" {code} " not in rows[received.code]
    assert 'class="motcua-table-wrap"' in html and "motcua-full-width" in html
    assert '<th scope="col" class="govuk-table__header"></th>' not in html


def test_every_list_pages_through_one_helper(police: Agency, desk: dict[str, Any]) -> None:
    for n in range(4):
        submit(make_citizen(full_name=f"Người Thứ {n}"), police, ABSENCE)
    client = desk["clients"]["mot.cua"]
    url = reverse("backoffice:queue", args=[police.pk])
    first = client.get(url, {"size": "20"}).content.decode()
    assert len(_rows(first)) == 7 and 'rel="next"' not in first
    mine = client.get(reverse("backoffice:start"), {"size": "20", "page": "9"})
    assert mine.status_code == 200  # a page past the end is the last page
    assert len(_rows(mine.content.decode())) == 6


def _mark() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_the_agency_queue_exports_to_csv_and_excel_in_words_and_each_export_is_logged(
    police: Agency, desk: dict[str, Any]
) -> None:
    submitted, received, assigned = desk["dossiers"]
    client = desk["clients"]["dtv.hai"]
    pins = set(Dossier.objects.values_list("applicant_pin", flat=True))

    mark = _mark()
    answer = client.get(reverse("backoffice:queue_export", args=[police.pk, "csv"]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith('attachment; filename="ho-so-')
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert table[0] == [
        "Mã hồ sơ",
        "Thủ tục",
        "Người nộp",
        "Cơ quan",
        "Trạng thái",
        "Người xử lý tiếp theo",
        "Ngày nộp",
        "Hẹn trả",
        "Quá hạn",
    ]
    by_code = {row[0]: row for row in table[1:]}
    assert set(by_code) == {submitted.code, received.code, assigned.code}
    assert by_code[assigned.code][4] == "Đã phân công"
    assert by_code[assigned.code][5] == "Cán bộ xử lý: Trần Văn Một"
    assert by_code[submitted.code][2] == "Nguyễn Thị Mới"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", by_code[submitted.code][7])
    assert by_code[submitted.code][8] == "Không"
    logged = AccessLog.objects.filter(pk__gt=mark)
    assert {(r.subject_pin, r.actor, r.data) for r in logged} == {
        (pin, "official:dtv.hai", "dossiers.queue_export") for pin in pins
    }

    mark = _mark()
    excel = client.get(reverse("backoffice:queue_export", args=[police.pk, "xlsx"]))
    assert excel["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(excel.content)).active
    assert sheet is not None
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Mã hồ sơ" and len(values) == 4
    assert {row[4] for row in values[1:]} == {"Mới đăng ký", "Đã tiếp nhận", "Đã phân công"}
    assert AccessLog.objects.filter(pk__gt=mark, data="dossiers.queue_export").count() == 3

    # The export keeps the list's filter: the same rows as shown.
    mark = _mark()
    one = client.get(
        reverse("backoffice:queue_export", args=[police.pk, "csv"]), {"status": "submitted"}
    )
    assert len(list(csv.reader(io.StringIO(one.content.decode())))) == 2
    assert AccessLog.objects.filter(pk__gt=mark).count() == 1


def test_waiting_for_me_exports_only_what_waits_for_me(
    police: Agency, desk: dict[str, Any]
) -> None:
    assigned = desk["dossiers"][2]
    answer = desk["clients"]["dtv.mot"].get(reverse("backoffice:mine_export", args=["csv"]))
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8").removeprefix("\ufeff"))))
    assert [row[0] for row in table[1:]] == [assigned.code]


def test_attack_export_of_another_agencys_queue_is_refused(
    police: Agency, desk: dict[str, Any]
) -> None:
    other = agency_of("commune", agencies_ready()[1])
    stranger = _official("xa.khac", other, "receiver", "approver", "clerk", "processor")
    mark = _mark()
    for fmt in ("csv", "xlsx"):
        refused = stranger.get(reverse("backoffice:queue_export", args=[police.pk, fmt]))
        assert refused.status_code == 404
    assert stranger.get(reverse("backoffice:queue_export", args=[police.pk, "pdf"])).status_code
    assert not AccessLog.objects.filter(pk__gt=mark).exists()
    mine = stranger.get(reverse("backoffice:mine_export", args=["csv"])).content.decode()
    assert desk["dossiers"][0].code not in mine
    assert Client().get(reverse("backoffice:mine_export", args=["csv"])).status_code == 302
