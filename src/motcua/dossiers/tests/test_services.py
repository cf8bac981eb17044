"""Dossier writes: submission (receipt code, once-only prefill, papers the state holds, deadline,
idempotency, refusals that write nothing, the applicant told after commit), every workflow step
(roles, conflicts, the supplement clock, withdrawal, overdue dossiers and the apology slip) and
the rating."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone
from hypothesis import strategies as st

from motcua.catalog.selectors import AGENCY_CODE, AgencyKind, Role, procedure_current, version_get
from motcua.catalog.tests.factories import agency_make
from motcua.core.actors import Actor
from motcua.core.calendar import CIVIL_STATUS_CUTOFF, work_calendar
from motcua.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from motcua.core.messaging import OutboxSmsGateway
from motcua.core.models import AccessLog, AuditEntry
from motcua.dossiers.models import Apology, Dossier, DossierEvent, DossierFile, Rating
from motcua.dossiers.selectors import dossier_detail
from motcua.dossiers.services import (
    LevelTooLow,
    Step,
    Submitted,
    dossier_act,
    dossier_apologize,
    dossier_rate,
)
from motcua.dossiers.tests.factories import (
    BIRTH,
    Person,
    as_citizen,
    catalog_ready,
    make_official,
    pdf_file,
    submit,
    valid_declaration,
)
from motcua.dossiers.tests.helpers import (
    CMND_CONFIRMATION,
    TEMPORARY_RESIDENCE,
    Desk,
    World,
    act,
    actions_of,
    applicant_with_contact,
    audit_actions_of,
    catalog_edited,
    clock_at,
    desk_of,
    html_named_pdf,
    make_overdue,
    next_day_off,
    race,
    refused,
    reload,
    stored_files,
    use_private_storage,
    working_days_before,
    world_ready,
    writes_nothing,
)
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db
racing = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RECEIPT_CODE = re.compile(r"(?P<agency>[A-Z0-9.]+)-(?P<day>[0-9]{6})-(?P<number>[0-9]{4})")
NOTE = "Thiếu bản chụp rõ nét giấy chứng sinh"
REASON = "Chờ cơ sở y tế xác minh giấy chứng sinh"


@pytest.fixture(autouse=True)
def _own_private_storage(settings: Any, tmp_path: Path) -> None:
    use_private_storage(settings, tmp_path / "private")


@pytest.fixture
def catalog() -> None:
    catalog_ready()


@pytest.fixture
def world() -> World:
    return world_ready()


@pytest.fixture
def mother() -> Person:
    return make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))


@pytest.fixture
def desk(world: World) -> Desk:
    """The officials of the first ward's People's Committee."""
    return desk_of(world.commune)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(django_settings.TIME_ZONE)).date()


def _received(desk: Desk, citizen: Person, world: World) -> int:
    """A birth registration taken in: the civil-status desk processes it at once."""
    dossier = submit(citizen, world.commune)
    act(desk.receiver, dossier.id, "receive")
    return dossier.id


def _returned(desk: Desk, citizen: Person, world: World) -> int:
    dossier_id = _received(desk, citizen, world)
    act(desk.approver, dossier_id, "approve")
    act(desk.clerk, dossier_id, "issue_result")
    act(desk.clerk, dossier_id, "return_result")
    return dossier_id


# --- submission: the receipt code ----------------------------------------------------------------


def test_a_birth_registration_with_one_pdf_gets_a_receipt_code(world: World, mother: Person):
    submitted = submit(mother, world.commune, files={"giay_chung_sinh": pdf_file()})

    dossier = reload(submitted.id)
    code = RECEIPT_CODE.fullmatch(submitted.code)
    assert code, submitted.code
    assert code["agency"] == world.commune.code
    assert code["day"] == _local_day(dossier.submitted_at).strftime("%y%m%d")
    assert code["number"] == "0001"
    assert (dossier.code, dossier.procedure_code, dossier.status) == (
        submitted.code,
        BIRTH,
        "submitted",
    )
    assert submitted.created
    files = list(DossierFile.objects.filter(dossier=dossier))
    assert [(f.component, f.purpose, f.content_type) for f in files] == [
        ("giay_chung_sinh", "submission", "application/pdf")
    ]
    assert stored_files() == [files[0].storage_name]
    assert actions_of(dossier.pk) == ["submit"]
    assert audit_actions_of(dossier.code) == ["dossier.submit"]


def test_receipt_numbers_count_per_agency_and_day(world: World, mother: Person):
    father = make_citizen(full_name="Trần Văn Nam", birth_date=date(1993, 8, 17))

    first = submit(mother, world.commune)
    second = submit(father, world.commune)
    elsewhere = submit(mother, world.other_commune)

    assert [first.code[-4:], second.code[-4:], elsewhere.code[-4:]] == ["0001", "0002", "0001"]
    assert first.code[:-5] == second.code[:-5]  # same agency, same day
    assert elsewhere.code.startswith(world.other_commune.code + "-")


@hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    agency_code=st.from_regex(AGENCY_CODE.regex, fullmatch=True),
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2039, 12, 31),
        timezones=st.just(UTC),
    ),
)
def test_receipt_codes_parse_back_into_agency_day_and_number(
    catalog: None, mother: Person, agency_code: str, moment: datetime
):
    """Examples share the test's transaction: an agency may come back on a day it already
    numbered, so the expected number is the count of its dossiers of that local day."""
    agency = agency_make(
        agency_code, kind=AgencyKind.COMMUNE, name="UBND xã thử", unit_code="2025:00004"
    )
    with clock_at(moment):
        submitted = submit(mother, agency)

    parsed_agency, day, number = submitted.code.rsplit("-", 2)
    local_day = _local_day(moment)
    same_day = [
        d for d in Dossier.objects.filter(agency=agency) if _local_day(d.submitted_at) == local_day
    ]
    assert parsed_agency == agency_code
    assert datetime.strptime(day, "%y%m%d").date() == local_day
    assert int(number) == len(same_day)
    assert RECEIPT_CODE.fullmatch(submitted.code)


# --- submission: what the state already knows ------------------------------------------------------


def test_locked_identity_fields_take_the_registry_values(world: World):
    citizen = make_citizen(full_name="Phạm Văn Đức", sex="M", birth_date=date(1980, 2, 29))
    impostor = {
        "so_dinh_danh": "001099000001",
        "ho_ten": "Kẻ Mạo Danh",
        "ngay_sinh": "2001-01-01",
        "hinh_thuc_nhan": "dien_tu",
        "muc_dich": "Giao dịch ngân hàng",
    }

    submitted = submit(citizen, world.province_police, CMND_CONFIRMATION, declaration=impostor)

    declaration = reload(submitted.id).declaration
    assert declaration["so_dinh_danh"] == citizen.pin
    assert declaration["ho_ten"] == "Phạm Văn Đức"
    assert declaration["ngay_sinh"] == "1980-02-29"
    assert declaration["muc_dich"] == "Giao dịch ngân hàng"  # not locked: the citizen's answer


def test_a_locked_sex_field_takes_the_registry_value(world: World):
    form = procedure_current(CMND_CONFIRMATION).form_schema
    sex = {"type": "string", "title": "Giới tính", "enum": ["M", "F"], "x-prefill": "applicant.sex"}
    catalog_edited(
        CMND_CONFIRMATION,
        form_schema={**form, "properties": {**form["properties"], "gioi_tinh": sex}},
    )
    citizen = make_citizen(full_name="Phạm Thị Thu", sex="F", birth_date=date(1988, 6, 1))

    submitted = submit(
        citizen,
        world.province_police,
        CMND_CONFIRMATION,
        declaration={"hinh_thuc_nhan": "dien_tu", "gioi_tinh": "M"},
    )

    assert reload(submitted.id).declaration["gioi_tinh"] == "F"


def test_papers_the_registry_holds_are_not_asked_for(world: World, mother: Person):
    holds = {c.code for c in procedure_current(BIRTH).components if c.held_by_registry}
    assert {"giay_to_tuy_than", "giay_to_cu_tru"} <= holds  # required papers, nobody uploads

    submitted = submit(mother, world.commune, files={"giay_chung_sinh": pdf_file()})

    uploaded = DossierFile.objects.filter(dossier_id=submitted.id)
    assert set(uploaded.values_list("component", flat=True)) == {"giay_chung_sinh"}


def test_a_file_for_a_paper_the_registry_holds_is_refused(world: World, mother: Person):
    files = {"giay_chung_sinh": pdf_file(), "giay_to_tuy_than": pdf_file("cccd.pdf")}

    with refused("file_giay_to_tuy_than", "không cần nộp"):
        submit(mother, world.commune, files=files)


# --- submission: the appointment ---------------------------------------------------------------


def test_the_appointment_is_the_calendars_for_the_submission(world: World, mother: Person):
    birth = reload(submit(mother, world.commune).id)
    residence = reload(submit(mother, world.police, TEMPORARY_RESIDENCE).id)

    calendar = work_calendar()
    assert birth.due_on == calendar.appointment(
        birth.submitted_at, procedure_current(BIRTH).days, cutoff=CIVIL_STATUS_CUTOFF
    )
    assert residence.due_on == calendar.appointment(
        residence.submitted_at, procedure_current(TEMPORARY_RESIDENCE).days, cutoff=None
    )


@pytest.mark.parametrize(("code", "cutoff_applies"), [(BIRTH, True), (TEMPORARY_RESIDENCE, False)])
def test_civil_status_dossiers_after_15_00_count_from_the_next_day(
    world: World, mother: Person, code: str, cutoff_applies: bool
):
    friday = date(2026, 11, 20)
    assert work_calendar().is_working_day(friday)
    local = ZoneInfo(django_settings.TIME_ZONE)
    agency = world.commune if code == BIRTH else world.police
    days = procedure_current(code).days

    due = {}
    for at in (time(14, 59), time(15, 0)):
        with clock_at(datetime.combine(friday, at, tzinfo=local)):
            due[at] = reload(submit(mother, agency, code).id).due_on

    calendar = work_calendar()
    assert due[time(14, 59)] == calendar.add_working_days(friday, days)
    after_cutoff = friday + timedelta(days=1) if cutoff_applies else friday
    assert due[time(15, 0)] == calendar.add_working_days(after_cutoff, days)
    assert (due[time(14, 59)] != due[time(15, 0)]) is cutoff_applies


# --- submission: retries -------------------------------------------------------------------------


def test_attack_a_level_1_sign_in_submitting_a_level_2_procedure_is_refused(
    world: World, mother: Person
):
    """Someone who registered a level-1 account in another person's name can not file a birth
    registration (level 2) for them: refused with a 403 naming the level, nothing written."""
    with writes_nothing(), pytest.raises(LevelTooLow) as caught:
        submit(mother, world.commune, eid_level=1)

    assert caught.value.status == 403 and caught.value.needed == 2
    assert "mức 2" in caught.value.errors["eid_level"]
    assert not Dossier.objects.exists()


def test_attack_a_level_1_retry_of_a_level_2_dossiers_key_learns_nothing(
    world: World, mother: Person
):
    submit(mother, world.commune, key="khoa-chong-trung-0002")

    with writes_nothing(), pytest.raises(LevelTooLow):
        submit(mother, world.commune, key="khoa-chong-trung-0002", eid_level=1)


def test_a_level_1_sign_in_files_a_level_1_procedure(world: World, mother: Person):
    done = submit(mother, world.province_police, CMND_CONFIRMATION, eid_level=1)

    assert done.created and Dossier.objects.get(pk=done.id).procedure_code == CMND_CONFIRMATION


def test_a_retry_with_the_same_key_returns_the_first_dossier(world: World, mother: Person):
    first = submit(mother, world.commune, key="khoa-chong-trung-0001")

    with writes_nothing():
        again = submit(mother, world.commune, key="khoa-chong-trung-0001")

    assert again == replace(first, created=False)


@racing
def test_two_submissions_racing_with_one_key_make_one_dossier(world: World, mother: Person):
    def attempt() -> Submitted:
        return submit(mother, world.commune, key="khoa-dua-nhau-0001")

    results = race(attempt, attempt)

    assert all(isinstance(r, Submitted) for r in results), results
    assert len({r.id for r in results if isinstance(r, Submitted)}) == 1
    assert sorted(r.created for r in results if isinstance(r, Submitted)) == [False, True]
    assert Dossier.objects.count() == 1
    assert DossierFile.objects.count() == 1
    assert DossierEvent.objects.count() == 1
    assert AuditEntry.objects.filter(action="dossier.submit").count() == 1
    assert len(stored_files()) == 1  # the loser's copy is deleted


# --- submission: refusals write nothing --------------------------------------------------------


def test_a_web_page_named_pdf_is_refused(world: World, mother: Person):
    with refused("file_giay_chung_sinh", "Chỉ nhận tệp PDF, JPEG hoặc PNG"):
        submit(mother, world.commune, files={"giay_chung_sinh": html_named_pdf()})


def test_an_oversized_file_is_refused(world: World, mother: Person, settings: Any):
    settings.UPLOAD_MAX_BYTES = 1024
    upload = pdf_file()
    assert upload.size is not None and upload.size > 1024

    with refused("file_giay_chung_sinh", "vượt quá"):
        submit(mother, world.commune, files={"giay_chung_sinh": upload})


def test_a_missing_required_upload_is_refused(world: World, mother: Person):
    with refused("file_giay_chung_sinh", "Cần tải lên giấy tờ này"):
        submit(mother, world.commune, files={})


def test_a_missing_required_declaration_field_is_refused(world: World, mother: Person):
    declaration = valid_declaration(procedure_current(BIRTH))
    del declaration["ho_ten_tre"]

    with refused("declaration.ho_ten_tre", "Bắt buộc"):
        submit(mother, world.commune, declaration=declaration)


def test_a_malformed_pin_in_a_person_field_is_refused(world: World, mother: Person):
    declaration = {**valid_declaration(procedure_current(BIRTH)), "me_pin": "08718410000"}

    with refused("declaration.me_pin", "Sai định dạng"):
        submit(mother, world.commune, declaration=declaration)


def test_a_birth_date_in_the_future_is_refused(world: World, mother: Person):
    later = (date.today() + timedelta(days=30)).isoformat()
    declaration = {**valid_declaration(procedure_current(BIRTH)), "ngay_sinh": later}

    with refused("declaration.ngay_sinh", "tương lai"):
        submit(mother, world.commune, declaration=declaration)


def test_a_man_s_pin_as_the_mother_s_is_refused(world: World, mother: Person):
    man = make_citizen(full_name="Phạm Văn Long", sex="M", birth_date=date(1990, 1, 1))
    declaration = {**valid_declaration(procedure_current(BIRTH)), "me_pin": man.pin}

    with refused("declaration.me_pin", "người nam"):
        submit(mother, world.commune, declaration=declaration)


def test_every_declaration_error_comes_at_once(world: World, mother: Person):
    """A future date, a woman as the father and a PIN nobody has: three errors in one pass."""
    woman = make_citizen(full_name="Đỗ Thị Lan", sex="F", birth_date=date(1991, 1, 1))
    declaration = {
        **valid_declaration(procedure_current(BIRTH)),
        "ngay_sinh": (date.today() + timedelta(days=1)).isoformat(),
        "cha_pin": woman.pin,
        "me_pin": "087195999999",  # a woman's PIN, but nobody's
    }

    with pytest.raises(ValidationFailed) as caught:
        submit(mother, world.commune, declaration=declaration)

    errors = caught.value.errors
    assert "tương lai" in errors["declaration.ngay_sinh"]
    assert "người nữ" in errors["declaration.cha_pin"]
    assert "Không có công dân" in errors["declaration.me_pin"]


def test_the_mother_named_in_a_declaration_sees_the_check_in_her_access_log(
    world: World, mother: Person
):
    other = make_citizen(full_name="Vũ Thị Thu", sex="F", birth_date=date(1990, 2, 2))
    declaration = {**valid_declaration(procedure_current(BIRTH)), "me_pin": other.pin}

    submit(mother, world.commune, declaration=declaration)

    assert AccessLog.objects.filter(subject_pin=other.pin, data="registry.reference").exists()


def test_an_agency_of_the_wrong_kind_is_refused(world: World, mother: Person):
    with refused("agency_id", "không giải quyết thủ tục này"):
        submit(mother, world.police)  # births are registered by the People's Committee


def test_an_unknown_fee_exemption_is_refused(world: World, mother: Person):
    with refused("fee_exemption", "Không có diện miễn này"):
        submit(mother, world.commune, fee_exemption="mien_phi_tuy_thich")


def test_a_deceased_applicant_is_refused(world: World):
    deceased = make_citizen(full_name="Hoàng Văn Cường", death_date=date(2026, 1, 5))

    with refused("applicant", "đã mất"):
        submit(deceased, world.commune)


# --- submission: telling the applicant -------------------------------------------------------------


def test_the_applicant_is_told_the_receipt_code_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
):
    by_mail = applicant_with_contact("me.be@example.vn")
    by_sms = applicant_with_contact("0912345678", full_name="Đỗ Thị Hoa")
    mail.outbox.clear()
    OutboxSmsGateway.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        mailed = submit(by_mail, world.commune)
        texted = submit(by_sms, world.commune)
        assert (mail.outbox, OutboxSmsGateway.outbox) == ([], [])  # not before the commit

    assert [m.to for m in mail.outbox] == [["me.be@example.vn"]]
    assert mailed.code in mail.outbox[0].subject
    assert f"{mailed.due_on:%d/%m/%Y}" in mail.outbox[0].body
    assert [phone for phone, _ in OutboxSmsGateway.outbox] == ["0912345678"]
    assert texted.code in OutboxSmsGateway.outbox[0][1]


# --- the catalog's versions ----------------------------------------------------------------------


def test_a_dossier_keeps_the_procedure_version_it_was_submitted_under(world: World, mother: Person):
    earlier = reload(submit(mother, world.police, TEMPORARY_RESIDENCE).id)

    catalog_edited(TEMPORARY_RESIDENCE, fee=9000, days=10)
    later = reload(submit(mother, world.police, TEMPORARY_RESIDENCE).id)

    old, new = version_get(earlier.procedure_version_id), version_get(later.procedure_version_id)
    assert (old.number, old.fee, old.days) == (1, 7000, 3)
    assert (new.number, new.fee, new.days) == (2, 9000, 10)
    kept = reload(earlier.pk)
    assert (kept.procedure_version_id, kept.fee, kept.due_on) == (
        earlier.procedure_version_id,
        7000,
        earlier.due_on,
    )
    detail = dossier_detail(actor=as_citizen(mother), dossier_id=earlier.pk)
    assert (detail.procedure.number, detail.procedure.fee) == (1, 7000)
    assert later.fee == 9000
    assert later.due_on == work_calendar().appointment(later.submitted_at, 10)


# --- the workflow ------------------------------------------------------------------------------


def test_the_civil_status_path_from_receipt_to_return(world: World, mother: Person, desk: Desk):
    dossier = submit(mother, world.commune)

    steps = [
        (desk.receiver, "receive", "processing"),
        (desk.approver, "approve", "approved"),
        (desk.clerk, "issue_result", "result_issued"),
        (desk.clerk, "return_result", "returned"),
    ]
    for actor, action, status in steps:
        assert act(actor, dossier.id, action).status == status

    done = reload(dossier.id)
    assert done.version == 1 + len(steps)
    assert done.result_code == f"{dossier.code}-KQ1"
    assert done.finished_at is not None
    assert not done.late
    assert actions_of(dossier.id) == [
        "submit",
        "receive",
        "approve",
        "issue_result",
        "return_result",
    ]
    assert audit_actions_of(dossier.code) == [
        "dossier.submit",
        "dossier.receive",
        "dossier.approve",
        "dossier.issue_result",
        "dossier.return_result",
    ]


def test_the_standard_path_assigns_then_starts(world: World, mother: Person):
    police = desk_of(world.police, "congan")
    dossier = submit(mother, world.police, TEMPORARY_RESIDENCE)

    assert act(police.receiver, dossier.id, "receive").status == "received"
    assigned = act(police.receiver, dossier.id, "assign", assignee="congan.xuly")
    assert (assigned.status, assigned.assignee) == ("assigned", "congan.xuly")
    assert act(police.processor, dossier.id, "start").status == "processing"
    assert act(police.approver, dossier.id, "approve").status == "approved"
    assert act(police.clerk, dossier.id, "issue_result").status == "result_issued"
    assert act(police.clerk, dossier.id, "return_result").status == "returned"
    assert actions_of(dossier.id) == [
        "submit",
        "receive",
        "assign",
        "start",
        "approve",
        "issue_result",
        "return_result",
    ]


def test_a_dossier_is_assigned_only_to_a_processor_of_its_agency(world: World, mother: Person):
    police = desk_of(world.police, "congan")
    dossier = submit(mother, world.police, TEMPORARY_RESIDENCE)
    act(police.receiver, dossier.id, "receive")

    for assignee in ("congan.trakq", "khong.co.ai", ""):
        with refused("assignee"):
            act(police.receiver, dossier.id, "assign", assignee=assignee)


def test_only_the_assigned_processor_starts(world: World, mother: Person):
    police = desk_of(world.police, "congan")
    colleague = make_official("congan.xuly2", world.police, Role.PROCESSOR)
    dossier = submit(mother, world.police, TEMPORARY_RESIDENCE)
    act(police.receiver, dossier.id, "receive")
    act(police.receiver, dossier.id, "assign", assignee="congan.xuly")

    with writes_nothing(), pytest.raises(PermissionDenied):
        act(colleague, dossier.id, "start")


def test_an_official_of_another_agency_finds_no_dossier(world: World, mother: Person):
    dossier = submit(mother, world.commune)
    outsider = make_official("xa.ben.canh", world.other_commune, Role.RECEIVER)

    with writes_nothing(), pytest.raises(NotFound):
        act(outsider, dossier.id, "receive")


def test_an_outsider_learns_nothing_from_a_step_the_status_does_not_allow(
    world: World, mother: Person
):
    dossier = submit(mother, world.commune)
    outsider = make_official("xa.ben.canh", world.other_commune, Role.APPROVER)

    with writes_nothing(), pytest.raises(NotFound):
        act(outsider, dossier.id, "approve")  # not open from "submitted"


def test_an_outsider_learns_nothing_from_a_stale_version(world: World, mother: Person):
    dossier = submit(mother, world.commune)
    outsider = make_official("xa.ben.canh", world.other_commune, Role.RECEIVER)

    with writes_nothing(), pytest.raises(NotFound):
        dossier_act(actor=outsider, step=Step(dossier.id, "receive", version=99))


def test_the_wrong_role_is_denied_and_nothing_changes(world: World, mother: Person, desk: Desk):
    dossier = submit(mother, world.commune)
    before = reload(dossier.id)

    with writes_nothing(), pytest.raises(PermissionDenied):
        act(desk.clerk, dossier.id, "receive")

    after = reload(dossier.id)
    assert (after.status, after.version) == (before.status, before.version)


def test_a_step_the_status_does_not_allow_is_a_conflict(world: World, mother: Person, desk: Desk):
    dossier = submit(mother, world.commune)

    with writes_nothing(), pytest.raises(Conflict):
        act(desk.approver, dossier.id, "approve")  # not received yet
    assert reload(dossier.id).status == "submitted"


def test_a_step_on_a_stale_version_is_a_conflict(world: World, mother: Person, desk: Desk):
    dossier = submit(mother, world.commune)
    seen = reload(dossier.id).version
    act(desk.receiver, dossier.id, "receive")

    with writes_nothing(), pytest.raises(Conflict):
        dossier_act(actor=desk.receiver, step=Step(dossier.id, "refuse", seen, note=NOTE))


@pytest.mark.parametrize("note", ["", "   ", "Sai"])
def test_a_step_that_needs_a_note_refuses_without_one(
    world: World, mother: Person, desk: Desk, note: str
):
    dossier = submit(mother, world.commune)

    with refused("note"):
        act(desk.receiver, dossier.id, "refuse", note=note)
    assert act(desk.receiver, dossier.id, "refuse", note=NOTE).status == "not_received"


@racing
def test_of_two_approvers_acting_at_once_one_wins(world: World, mother: Person, desk: Desk):
    second = make_official("canbo.lanhdao2", world.commune, Role.APPROVER)
    dossier_id = _received(desk, mother, world)
    version = reload(dossier_id).version

    def approve(actor: Actor) -> Any:
        return lambda: dossier_act(actor=actor, step=Step(dossier_id, "approve", version))

    results = race(approve(desk.approver), approve(second))

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Dossier"], results
    assert DossierEvent.objects.filter(dossier_id=dossier_id, action="approve").count() == 1
    assert AuditEntry.objects.filter(action="dossier.approve").count() == 1
    assert (reload(dossier_id).status, reload(dossier_id).version) == ("approved", version + 1)


# --- supplements: the clock stops ----------------------------------------------------------------


def test_the_clock_stops_while_the_citizen_supplements(world: World, mother: Person, desk: Desk):
    dossier_id = _received(desk, mother, world)
    asked = act(desk.receiver, dossier_id, "request_supplement", note=NOTE)
    today = timezone.localdate()
    assert (asked.status, asked.paused_on, asked.supplement_requests) == (
        "supplement_requested",
        today,
        1,
    )
    assert not asked.late

    waited = 3
    Dossier.objects.filter(pk=dossier_id).update(paused_on=working_days_before(today, waited))
    due_before = reload(dossier_id).due_on
    back = act(
        as_citizen(mother), dossier_id, "supplement", files={"giay_chung_sinh": pdf_file("ro.pdf")}
    )

    calendar = work_calendar()
    assert (back.status, back.paused_on) == ("processing", None)
    assert back.due_on == calendar.add_working_days(due_before, waited)
    assert calendar.working_days_between(due_before, back.due_on) == waited
    purposes = DossierFile.objects.filter(dossier_id=dossier_id).values_list("purpose", flat=True)
    assert sorted(purposes) == ["submission", "supplement"]


def test_a_supplement_brings_a_paper(world: World, mother: Person, desk: Desk):
    dossier_id = _received(desk, mother, world)
    act(desk.receiver, dossier_id, "request_supplement", note=NOTE)
    citizen = as_citizen(mother)

    with refused("files"):
        act(citizen, dossier_id, "supplement")
    with refused("file_giay_to_tuy_than"):
        act(citizen, dossier_id, "supplement", files={"giay_to_tuy_than": pdf_file()})
    with refused("file_giay_chung_sinh"):
        act(citizen, dossier_id, "supplement", files={"giay_chung_sinh": html_named_pdf()})


def test_a_second_supplement_request_counts_the_dossier_late(
    world: World, mother: Person, desk: Desk
):
    dossier_id = _received(desk, mother, world)
    act(desk.receiver, dossier_id, "request_supplement", note=NOTE)
    act(as_citizen(mother), dossier_id, "supplement", files={"giay_chung_sinh": pdf_file()})
    assert not reload(dossier_id).late

    again = act(desk.receiver, dossier_id, "request_supplement", note=NOTE)

    assert (again.supplement_requests, again.late) == (2, True)


# --- withdrawal ----------------------------------------------------------------------------------


def test_the_applicant_withdraws(world: World, mother: Person):
    dossier = submit(mother, world.commune)

    withdrawn = act(as_citizen(mother), dossier.id, "withdraw")

    assert withdrawn.status == "withdrawn"
    assert withdrawn.finished_at is not None
    assert actions_of(dossier.id) == ["submit", "withdraw"]


def test_another_citizen_cannot_withdraw(world: World, mother: Person):
    dossier = submit(mother, world.commune)
    stranger = make_citizen(full_name="Người Lạ Mặt")

    with writes_nothing(), pytest.raises(NotFound):
        act(as_citizen(stranger), dossier.id, "withdraw")
    assert reload(dossier.id).status == "submitted"


# --- overdue dossiers and the apology slip -------------------------------------------------------


def _apologize(actor: Actor, dossier_id: int, **given: Any) -> Apology:
    values: dict[str, Any] = {
        "reason": REASON,
        "new_due": work_calendar().add_working_days(timezone.localdate(), 2),
    }
    values.update(given)
    return dossier_apologize(
        actor=actor, dossier_id=dossier_id, version=reload(dossier_id).version, **values
    )


def test_an_overdue_dossier_moves_on_only_after_the_apology(
    world: World, mother: Person, desk: Desk
):
    dossier_id = _received(desk, mother, world)
    past = make_overdue(dossier_id)

    with writes_nothing(), pytest.raises(Conflict):
        act(desk.approver, dossier_id, "approve")

    apology = _apologize(desk.receiver, dossier_id)
    apologized = reload(dossier_id)
    assert (apology.previous_due, apologized.due_on, apologized.late) == (
        past,
        apology.new_due,
        True,
    )
    approved = act(desk.approver, dossier_id, "approve")
    assert (approved.status, approved.late) == ("approved", True)
    assert actions_of(dossier_id)[-2:] == ["apologize", "approve"]
    assert "dossier.apologize" in audit_actions_of(approved.code)


def test_no_apology_for_a_dossier_that_is_not_overdue(world: World, mother: Person, desk: Desk):
    dossier_id = _received(desk, mother, world)

    with refused("dossier", "Hồ sơ chưa quá hạn"):
        _apologize(desk.receiver, dossier_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda today: {"reason": "Bận việc"}, "reason"),
        (lambda today: {"new_due": today}, "new_due"),
        (lambda today: {"new_due": today - timedelta(days=1)}, "new_due"),
        (lambda today: {"new_due": next_day_off(today)}, "new_due"),
    ],
    ids=["short reason", "today", "yesterday", "a day off"],
)
def test_an_apology_needs_a_reason_and_a_later_working_day(
    world: World,
    mother: Person,
    desk: Desk,
    change: Callable[[date], dict[str, Any]],
    field: str,
):
    dossier_id = _received(desk, mother, world)
    make_overdue(dossier_id)

    with refused(field):
        _apologize(desk.approver, dossier_id, **change(timezone.localdate()))


def test_an_apology_is_the_desk_or_the_leaders_to_make(world: World, mother: Person, desk: Desk):
    dossier_id = _received(desk, mother, world)
    make_overdue(dossier_id)
    outsider = make_official("xa.ben.canh", world.other_commune, Role.RECEIVER)

    with writes_nothing():
        with pytest.raises(PermissionDenied):
            _apologize(desk.clerk, dossier_id)
        with pytest.raises(PermissionDenied):
            _apologize(desk.processor, dossier_id)
        with pytest.raises(NotFound):
            _apologize(outsider, dossier_id)
        with pytest.raises(NotFound):
            _apologize(as_citizen(mother), dossier_id)


# --- rating --------------------------------------------------------------------------------------


def test_a_rating_waits_for_the_returned_result(world: World, mother: Person, desk: Desk):
    dossier_id = _received(desk, mother, world)

    with refused("dossier", "đã nhận kết quả"):
        dossier_rate(actor=as_citizen(mother), dossier_id=dossier_id, score=5)


def test_only_the_applicant_rates(world: World, mother: Person, desk: Desk):
    dossier_id = _returned(desk, mother, world)
    stranger = make_citizen(full_name="Người Lạ Mặt")

    with writes_nothing():
        for actor in (as_citizen(stranger), desk.clerk):
            with pytest.raises(NotFound):
                dossier_rate(actor=actor, dossier_id=dossier_id, score=5)


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_rating_is_1_to_5(world: World, mother: Person, desk: Desk, score: int):
    dossier_id = _returned(desk, mother, world)

    with refused("score"):
        dossier_rate(actor=as_citizen(mother), dossier_id=dossier_id, score=score)


def test_a_dossier_is_rated_once(world: World, mother: Person, desk: Desk):
    dossier_id = _returned(desk, mother, world)
    citizen = as_citizen(mother)

    rating = dossier_rate(actor=citizen, dossier_id=dossier_id, score=4, comment="  Nhanh gọn ")

    assert (rating.score, rating.comment) == (4, "Nhanh gọn")
    assert audit_actions_of(reload(dossier_id).code)[-1] == "dossier.rate"
    with writes_nothing(), pytest.raises(Conflict):
        dossier_rate(actor=citizen, dossier_id=dossier_id, score=1)
    assert Rating.objects.get(dossier_id=dossier_id).score == 4
