"""The catalog as data: the shipped procedures load and version, a bad procedure refuses the
whole load and writes nothing, search ignores diacritics, the once-only report counts what the
registry holds, officials get roles only in real agencies.

(That a dossier keeps the version it was submitted under is tested with the dossiers: the
catalog does not depend on them.)"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from motcua.catalog.models import (
    Component,
    Official,
    Procedure,
    ProcedureVersion,
    Transition,
    Workflow,
)
from motcua.catalog.selectors import (
    official_roles,
    once_only_report,
    procedure_current,
    procedure_search,
    version_get,
)
from motcua.catalog.services import (
    LoadReport,
    NewAgency,
    agency_add,
    catalog_files,
    catalog_load,
    official_assign,
)
from motcua.core.actors import SYSTEM, Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import AuditEntry

pytestmark = pytest.mark.django_db

BIRTH = "1.001193"
TEMPORARY_RESIDENCE = "1.004194"
JUDICIAL_RECORD = "3.000333"
CMND_CONFIRMATION = "2.001178"
CHILD_HEALTH_CARD = "1.011921"

Procedures = list[dict[str, Any]]


def shipped() -> Procedures:
    return copy.deepcopy(catalog_files()[0]["procedures"])


def load(procedures: Procedures | None = None) -> LoadReport:
    return catalog_load(
        actor=SYSTEM,
        procedures=shipped() if procedures is None else procedures,
        workflows=catalog_files()[1]["workflows"],
    )


def edited(
    procedures: Procedures, code: str, change: Callable[[dict[str, Any]], None]
) -> Procedures:
    (procedure,) = [p for p in procedures if p["code"] == code]
    change(procedure)
    return procedures


def catalog_rows() -> dict[str, int]:
    return {
        "procedures": Procedure.objects.count(),
        "versions": ProcedureVersion.objects.count(),
        "components": Component.objects.count(),
        "workflows": Workflow.objects.count(),
        "transitions": Transition.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def plain(text: str) -> str:
    """Lower case without diacritics, written here independently of the code under test."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
    ).lower()


# --- loading and versions ------------------------------------------------------------------------


def test_the_shipped_catalog_loads_every_procedure_at_version_1():
    procedures = shipped()

    report = load()

    codes = sorted(p["code"] for p in procedures)
    assert (sorted(report.published), report.unchanged, report.workflows) == (codes, [], 2)
    assert ProcedureVersion.objects.count() == len(codes)
    for data in procedures:
        current = procedure_current(data["code"])
        assert (current.number, current.name, current.days, current.fee) == (
            1,
            data["name"],
            data["days"],
            data["fee"],
        )
        assert [c.code for c in current.components] == [c["code"] for c in data["components"]]
        assert current.transitions, data["code"]  # its workflow's steps are in the snapshot


def test_every_procedure_states_its_minimum_eid_level_in_the_published_version():
    """Civil status, residence registration, cards and benefits need level 2; level 1 is
    enough only for lookups and notices that change no record."""
    load()
    levels = {p["code"]: p["min_eid_level"] for p in shipped()}
    assert set(levels.values()) == {1, 2}
    assert {code for code, level in levels.items() if level == 1} == {
        CMND_CONFIRMATION,
        "1.003677",  # temporary absence declaration
        "2.001159",  # stay notification
    }
    for code, level in levels.items():
        assert procedure_current(code).min_eid_level == level
    assert procedure_current(BIRTH).min_eid_level == 2
    assert Procedure.objects.get(code=TEMPORARY_RESIDENCE).min_eid_level == 2


def test_loading_the_same_catalog_again_publishes_nothing():
    load()
    versions = ProcedureVersion.objects.count()

    report = load()

    assert report.published == []
    assert sorted(report.unchanged) == sorted(p["code"] for p in shipped())
    assert ProcedureVersion.objects.count() == versions
    assert AuditEntry.objects.filter(action="procedure.publish").count() == versions


def test_a_changed_fee_publishes_version_2_and_keeps_version_1():
    load()
    first = procedure_current(TEMPORARY_RESIDENCE)

    report = load(edited(shipped(), TEMPORARY_RESIDENCE, lambda p: p.update(fee=9000)))

    assert report.published == [TEMPORARY_RESIDENCE]
    current = procedure_current(TEMPORARY_RESIDENCE)
    assert (current.number, current.fee) == (2, 9000)
    assert (version_get(first.version_id).number, version_get(first.version_id).fee) == (1, 7000)


# --- bad procedures --------------------------------------------------------------------------------


def _unknown_prefill(p: dict[str, Any]) -> None:
    p["form_schema"]["properties"]["so_dinh_danh"]["x-prefill"] = "applicant.salary"


def _two_forms(p: dict[str, Any]) -> None:
    (paper,) = [c for c in p["components"] if c["code"] == "giay_chung_sinh"]
    paper["source"] = "form"


def _result_of_nothing(p: dict[str, Any]) -> None:
    (paper,) = [c for c in p["components"] if c["code"] == "giay_khai_sinh"]
    paper["source_ref"] = "9.999999"


def _invalid_schema(p: dict[str, Any]) -> None:
    p["form_schema"]["required"] = "loai_phieu"  # must be an array


def _level_3(p: dict[str, Any]) -> None:
    p["min_eid_level"] = 3


BAD = [
    pytest.param(
        BIRTH, _level_3, "1.001193.min_eid_level", "Mức định danh 1 hoặc 2", id="unknown e-ID level"
    ),
    pytest.param(
        CMND_CONFIRMATION,
        _unknown_prefill,
        "2.001178.form_schema.so_dinh_danh",
        "applicant.salary",
        id="unknown prefill key",
    ),
    pytest.param(
        BIRTH, _two_forms, "1.001193.components", "Cần đúng một tờ khai", id="two form components"
    ),
    pytest.param(
        CHILD_HEALTH_CARD,
        _result_of_nothing,
        "1.011921.components.giay_khai_sinh",
        "9.999999",
        id="result of an unknown procedure",
    ),
    pytest.param(
        JUDICIAL_RECORD,
        _invalid_schema,
        "3.000333.form_schema",
        "JSON Schema không hợp lệ",
        id="JSON Schema không hợp lệ",
    ),
]


@pytest.mark.parametrize(("code", "change", "field", "message"), BAD)
def test_a_bad_procedure_refuses_a_first_load_and_writes_nothing(
    code: str, change: Callable[[dict[str, Any]], None], field: str, message: str
):
    with pytest.raises(ValidationFailed) as caught:
        load(edited(shipped(), code, change))

    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert set(catalog_rows().values()) == {0}


@pytest.mark.parametrize(("code", "change", "field", "message"), BAD)
def test_a_bad_procedure_refuses_the_whole_edit(
    code: str, change: Callable[[dict[str, Any]], None], field: str, message: str
):
    """A good change in the same load is not published either."""
    load()
    before = catalog_rows()
    procedures = edited(shipped(), TEMPORARY_RESIDENCE, lambda p: p.update(fee=9000))

    with pytest.raises(ValidationFailed) as caught:
        load(edited(procedures, code, change))

    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert catalog_rows() == before
    assert procedure_current(TEMPORARY_RESIDENCE).fee == 7000
    assert Procedure.objects.get(code=TEMPORARY_RESIDENCE).fee == 7000


def test_only_an_editor_loads_the_catalog():
    reader = Actor(
        kind="official", ref="canbo.xem", permissions=frozenset({"catalog.view_procedure"})
    )

    with pytest.raises(PermissionDenied):
        catalog_load(actor=reader, procedures=shipped(), workflows=catalog_files()[1]["workflows"])
    assert set(catalog_rows().values()) == {0}


# --- search --------------------------------------------------------------------------------------


def _codes(query: str) -> list[str]:
    return [p.code for p in procedure_search(query)]


@pytest.mark.parametrize(
    ("query", "anchor"),
    [
        ("dang ky khai sinh", BIRTH),
        ("Đăng ký khai sinh", BIRTH),
        ("ly lich tu phap", JUDICIAL_RECORD),
        ("Lý Lịch  TƯ PHÁP", JUDICIAL_RECORD),
        ("1.001193", BIRTH),
    ],
)
def test_search_ignores_diacritics_and_case(query: str, anchor: str):
    load()

    assert _codes(query)[0] == anchor


def test_search_finds_the_right_procedures():
    load()

    assert _codes("ly lich tu phap") == [JUDICIAL_RECORD]
    assert {BIRTH, TEMPORARY_RESIDENCE} <= set(_codes("ĐĂNG KÝ"))
    assert JUDICIAL_RECORD not in _codes("ĐĂNG KÝ")
    # Every procedure whose name holds every word is found (more may follow, ranked lower).
    for query in ("dang ky", "khai sinh", "tam tru", "can cuoc"):
        words = plain(query).split()
        expected = {
            p["code"] for p in shipped() if all(w in plain(p["name"]).split() for w in words)
        }
        assert expected <= set(_codes(query)), query


def test_a_nonsense_query_finds_nothing():
    load()

    assert _codes("xyzzy khong ton tai") == []
    assert len(_codes("")) == len(shipped())  # no query: everything


# --- the once-only report ------------------------------------------------------------------------


def test_the_once_only_report_counts_the_papers_the_registry_holds():
    load()
    procedures = shipped()

    def papers(p: dict[str, Any]) -> int:
        return sum(1 for c in p["components"] if c["source"] != "form")

    def dropped(p: dict[str, Any]) -> int:
        return sum(1 for c in p["components"] if c["source"].startswith("registry_"))

    report = once_only_report()

    assert {p.code: (p.papers, p.papers_dropped) for p in report.procedures} == {
        p["code"]: (papers(p), dropped(p)) for p in procedures
    }
    assert report.papers == sum(papers(p) for p in procedures)
    assert report.papers_dropped == sum(dropped(p) for p in procedures)
    assert report.share_dropped == report.papers_dropped / report.papers
    assert 0 < report.papers_dropped < report.papers


# --- agencies and officials ----------------------------------------------------------------------

AGENCY = "00004.01.T01"


@pytest.fixture
def agency() -> str:
    agency_add(
        actor=SYSTEM,
        agency=NewAgency(code=AGENCY, name="UBND phường thử", kind="commune", unit_code="x"),
    )
    return AGENCY


@pytest.fixture
def staff() -> str:
    User.objects.create_user("canbo.moi", password="x-test-password-1", is_staff=True)
    User.objects.create_user("congdan.thuong", password="x-test-password-1", is_staff=False)
    return "canbo.moi"


def test_a_staff_user_gets_a_role_in_an_agency_once(agency: str, staff: str):
    audit = AuditEntry.objects.count()

    official_assign(actor=SYSTEM, username=staff, agency_code=agency, role="receiver")
    official_assign(actor=SYSTEM, username=staff, agency_code=agency, role="receiver")

    assert [set(roles) for roles in official_roles(staff).values()] == [{"receiver"}]
    assert AuditEntry.objects.count() == audit + 1


@pytest.mark.parametrize(
    ("username", "agency_code", "role", "field"),
    [
        ("khong.ton.tai", AGENCY, "receiver", "username"),
        ("congdan.thuong", AGENCY, "receiver", "username"),  # not staff
        ("canbo.moi", "000.00.99.X99", "receiver", "agency_code"),
        ("canbo.moi", AGENCY, "thu_truong", "role"),
    ],
)
def test_official_assign_refuses_unknown_users_agencies_and_roles(
    agency: str, staff: str, username: str, agency_code: str, role: str, field: str
):
    before = (Official.objects.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationFailed) as caught:
        official_assign(actor=SYSTEM, username=username, agency_code=agency_code, role=role)

    assert list(caught.value.errors) == [field]
    assert (Official.objects.count(), AuditEntry.objects.count()) == before


def test_official_assign_reports_every_wrong_field_at_once(agency: str, staff: str):
    with pytest.raises(ValidationFailed) as caught:
        official_assign(actor=SYSTEM, username="ai.do", agency_code="KHONG.CO", role="vua")

    assert set(caught.value.errors) == {"username", "agency_code", "role"}
    assert Official.objects.count() == 0


def test_official_assign_needs_the_agency_permission(agency: str, staff: str):
    clerk = Actor(kind="official", ref="canbo.khac", permissions=frozenset())

    with pytest.raises(PermissionDenied):
        official_assign(actor=clerk, username=staff, agency_code=agency, role="receiver")
    assert Official.objects.count() == 0


@pytest.mark.parametrize(
    "code",
    [
        "00004.01.t01",
        "-00004",
        "00004.01.T01.",
        "0",
        "00004 01 T01",
        "00004.01.T01\n",
    ],
)
def test_an_agency_code_must_be_an_electronic_identifier(code: str):
    with pytest.raises(ValidationFailed) as caught:
        agency_add(
            actor=SYSTEM,
            agency=NewAgency(code=code, name="UBND thử", kind="commune", unit_code="x"),
        )

    assert "code" in caught.value.errors
