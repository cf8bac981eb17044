"""Dossier reads: one dossier (and who read whose data), the agency's queue with its filters and
pages, and the papers printed from a dossier."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from motcua.catalog.selectors import Role
from motcua.core.calendar import work_calendar
from motcua.core.errors import NotFound
from motcua.core.models import AccessLog
from motcua.dossiers.models import Dossier
from motcua.dossiers.printouts import apology_pdf, receipt_pdf, result_pdf
from motcua.dossiers.selectors import QueueFilter, dossier_detail, dossier_queue
from motcua.dossiers.services import dossier_apologize
from motcua.dossiers.tests.factories import Person, as_citizen, make_official, submit
from motcua.dossiers.tests.helpers import (
    Desk,
    World,
    act,
    desk_of,
    make_overdue,
    pdf_text,
    reload,
    use_private_storage,
    world_ready,
)
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db

MARITAL_STATUS = "1.004873"  # Xác nhận tình trạng hôn nhân: another procedure of the commune


@pytest.fixture(autouse=True)
def _own_private_storage(settings: Any, tmp_path: Path) -> None:
    use_private_storage(settings, tmp_path / "private")


@pytest.fixture
def world() -> World:
    return world_ready()


@pytest.fixture
def mother() -> Person:
    return make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))


@pytest.fixture
def desk(world: World) -> Desk:
    return desk_of(world.commune)


def _reads_of(pin: str) -> list[tuple[str, str]]:
    return sorted(AccessLog.objects.filter(subject_pin=pin).values_list("actor", "data"))


# --- one dossier ---------------------------------------------------------------------------------


def test_an_officials_read_is_in_the_applicants_access_log(
    world: World, mother: Person, desk: Desk
):
    dossier = submit(mother, world.commune)
    assert _reads_of(mother.pin) == []  # the applicant's own reads while submitting

    detail = dossier_detail(actor=desk.receiver, dossier_id=dossier.id)

    assert detail.row.code == dossier.code
    assert detail.applicant is not None and detail.applicant.pin == mother.pin
    assert _reads_of(mother.pin) == [
        ("official:canbo.tiepnhan", "dossiers.dossier"),
        ("official:canbo.tiepnhan", "registry.citizen"),
    ]
    purposes = set(AccessLog.objects.filter(subject_pin=mother.pin).values_list("purpose"))
    assert all(dossier.code in purpose for (purpose,) in purposes)


def test_the_applicants_own_read_is_not_logged(world: World, mother: Person):
    dossier = submit(mother, world.commune)

    detail = dossier_detail(actor=as_citizen(mother), dossier_id=dossier.id)

    assert detail.row.code == dossier.code
    assert detail.applicant is None  # the registry record is for officials
    assert _reads_of(mother.pin) == []


def test_outsiders_find_no_dossier_and_read_nothing(world: World, mother: Person):
    dossier = submit(mother, world.commune)
    outsider = make_official("xa.ben.canh", world.other_commune, Role.RECEIVER)
    stranger = make_citizen(full_name="Người Lạ Mặt")

    for actor in (outsider, as_citizen(stranger)):
        with pytest.raises(NotFound):
            dossier_detail(actor=actor, dossier_id=dossier.id)
    assert _reads_of(mother.pin) == []


def test_the_detail_offers_the_steps_the_actors_roles_allow(
    world: World, mother: Person, desk: Desk
):
    dossier = submit(mother, world.commune)

    receiver = dossier_detail(actor=desk.receiver, dossier_id=dossier.id)
    applicant = dossier_detail(actor=as_citizen(mother), dossier_id=dossier.id)

    assert {t.action for t in receiver.actions} == {"receive", "refuse"}
    assert {t.action for t in applicant.actions} == {"withdraw"}
    assert (receiver.national_status, receiver.version) == (1, 1)


# --- the agency's queue --------------------------------------------------------------------------


def _placed(dossier_id: int, *, status: str, due_on: date) -> str:
    """Put a dossier where the queue test needs it; returns its code."""
    Dossier.objects.filter(pk=dossier_id).update(status=status, due_on=due_on)
    return reload(dossier_id).code


@pytest.fixture
def queue(world: World, mother: Person) -> dict[str, str]:
    """Dossiers of the first ward's committee in known places, by name; plus a closed one and
    one of another agency, which no filter shows."""
    today = timezone.localdate()
    father = make_citizen(full_name="Trần Văn Nam", birth_date=date(1993, 8, 17))
    codes = {
        "overdue": _placed(
            submit(mother, world.commune).id, status="processing", due_on=today - timedelta(30)
        ),
        "waiting": _placed(
            submit(mother, world.commune).id,
            status="supplement_requested",
            due_on=today - timedelta(30),
        ),
        "due_today": _placed(submit(mother, world.commune).id, status="processing", due_on=today),
        "later": _placed(
            submit(father, world.commune).id, status="submitted", due_on=today + timedelta(60)
        ),
        "marital": _placed(
            submit(mother, world.commune, MARITAL_STATUS).id,
            status="submitted",
            due_on=today + timedelta(61),
        ),
    }
    withdrawn = submit(mother, world.commune)
    act(as_citizen(mother), withdrawn.id, "withdraw")
    submit(mother, world.other_commune)
    return codes


def _codes(desk: Desk, world: World, **chosen: Any) -> list[str]:
    page = dossier_queue(
        actor=desk.receiver, agency_id=world.commune.pk, chosen=QueueFilter(**chosen)
    )
    return [row.code for row in page.rows]


def test_the_queue_shows_open_dossiers_most_urgent_first(
    world: World, desk: Desk, queue: dict[str, str]
):
    page = dossier_queue(actor=desk.receiver, agency_id=world.commune.pk, chosen=QueueFilter())

    assert [row.code for row in page.rows] == [
        queue["overdue"],
        queue["waiting"],
        queue["due_today"],
        queue["later"],
        queue["marital"],
    ]
    assert page.total == 5
    assert {row.code: row.overdue for row in page.rows}[queue["overdue"]]
    assert not {row.code: row.overdue for row in page.rows}[queue["waiting"]]  # clock stopped
    assert (MARITAL_STATUS, "Cấp Giấy xác nhận tình trạng hôn nhân") in page.procedures


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({"status": "submitted"}, ["later", "marital"]),
        ({"status": "supplement_requested"}, ["waiting"]),
        ({"overdue": True}, ["overdue"]),
        ({"due_soon": True}, ["due_today"]),
        ({"procedure": MARITAL_STATUS}, ["marital"]),
        ({"status": "submitted", "procedure": MARITAL_STATUS}, ["marital"]),
        ({"status": "returned"}, []),
    ],
)
def test_the_queue_filters(
    world: World,
    desk: Desk,
    queue: dict[str, str],
    chosen: dict[str, Any],
    expected: list[str],
):
    assert _codes(desk, world, **chosen) == [queue[name] for name in expected]


def test_the_queue_finds_by_receipt_code_its_prefix_or_the_applicants_pin(
    world: World, desk: Desk, queue: dict[str, str]
):
    father_pin = Dossier.objects.get(code=queue["later"]).applicant_pin

    assert _codes(desk, world, query=f"  {queue['due_today']} ") == [queue["due_today"]]
    same_day = queue["later"][:-4]  # AGENCY-YYMMDD-
    assert sorted(_codes(desk, world, query=same_day)) == sorted(queue.values())
    assert _codes(desk, world, query=father_pin) == [queue["later"]]
    assert _codes(desk, world, query="KHONG-CO-HO-SO") == []


def test_the_queue_pages(world: World, desk: Desk, queue: dict[str, str]):
    def page(number: int) -> tuple[list[str], int, int]:
        found = dossier_queue(
            actor=desk.receiver,
            agency_id=world.commune.pk,
            chosen=QueueFilter(),
            page=number,
            page_size=2,
        )
        return [row.code for row in found.rows], found.page, found.pages

    assert page(1) == ([queue["overdue"], queue["waiting"]], 1, 3)
    assert page(2) == ([queue["due_today"], queue["later"]], 2, 3)
    assert page(3) == ([queue["marital"]], 3, 3)
    assert page(99) == page(3)  # past the end: the last page
    assert page(0) == page(1)


def test_only_the_agencys_officials_open_its_queue(world: World, mother: Person):
    outsider = make_official("xa.ben.canh", world.other_commune, Role.RECEIVER)

    for actor in (outsider, as_citizen(mother)):
        with pytest.raises(NotFound):
            dossier_queue(actor=actor, agency_id=world.commune.pk, chosen=QueueFilter())


# --- printouts -----------------------------------------------------------------------------------


def test_the_receipt_shows_the_code_and_the_appointment(world: World, mother: Person, desk: Desk):
    dossier = submit(mother, world.commune)

    text = pdf_text(receipt_pdf(dossier_detail(actor=desk.receiver, dossier_id=dossier.id)))

    assert dossier.code in text
    assert f"{dossier.due_on:%d/%m/%Y}" in text


def test_the_apology_slip_shows_the_code_and_both_appointments(
    world: World, mother: Person, desk: Desk
):
    dossier = submit(mother, world.commune)
    act(desk.receiver, dossier.id, "receive")
    past = make_overdue(dossier.id)
    new_due = work_calendar().add_working_days(timezone.localdate(), 2)
    apology = dossier_apologize(
        actor=desk.receiver,
        dossier_id=dossier.id,
        version=reload(dossier.id).version,
        reason="Chờ cơ sở y tế xác minh giấy chứng sinh",
        new_due=new_due,
    )

    detail = dossier_detail(actor=desk.receiver, dossier_id=dossier.id)
    text = pdf_text(apology_pdf(detail, apology.pk))

    assert dossier.code in text
    assert f"{past:%d/%m/%Y}" in text
    assert f"{new_due:%d/%m/%Y}" in text


def test_the_result_notice_shows_the_receipt_and_result_codes(
    world: World, mother: Person, desk: Desk
):
    dossier = submit(mother, world.commune)
    act(desk.receiver, dossier.id, "receive")
    act(desk.approver, dossier.id, "approve")
    act(desk.clerk, dossier.id, "issue_result")

    text = pdf_text(result_pdf(dossier_detail(actor=desk.clerk, dossier_id=dossier.id)))

    assert dossier.code in text
    assert f"{dossier.code}-KQ1" in text
