"""Declarations checked against the registry at submission: the people a form names by PIN
exist, carry the name given, are alive (unless the form allows the dead), have the sex of their
role, and stand in the relation to the applicant that the applicant declares where the law asks
for one. A refusal is a field error and files nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from motcua.core.actors import SYSTEM
from motcua.dossiers.services import Submission, dossier_submission_check
from motcua.dossiers.tests.factories import BIRTH, Person, as_citizen, submit
from motcua.dossiers.tests.helpers import World, refused, use_private_storage, world_ready
from motcua.registry.services import marriage_register
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db

DEATH = "1.000656"
MISSING = "001195000999"  # a well-formed woman's PIN nobody has


@pytest.fixture(autouse=True)
def _own_private_storage(settings: Any, tmp_path: Path) -> None:
    use_private_storage(settings, tmp_path / "private")


@pytest.fixture
def world() -> World:
    return world_ready()


@pytest.fixture
def mother() -> Person:
    return make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))


def birth(mother_pin: str, **changes: Any) -> dict[str, Any]:
    return {
        "ho_ten_tre": "Nguyễn Minh Khang",
        "gioi_tinh": "M",
        "ngay_sinh": "2026-11-02",
        "noi_sinh": "Bệnh viện Phụ sản",
        "me_pin": mother_pin,
        "quan_he_nguoi_yeu_cau": "me",
        **changes,
    }


def death(deceased_pin: str, relation: str) -> dict[str, Any]:
    return {
        "nguoi_chet_pin": deceased_pin,
        "ngay_chet": "2026-11-20",
        "noi_chet": "Tại nhà",
        "nguyen_nhan_chet": "Bệnh già",
        "quan_he": relation,
    }


# --- the people named ------------------------------------------------------------------------


def test_a_mothers_pin_nobody_has_is_refused(world: World, mother: Person) -> None:
    with refused("declaration.me_pin", "Không có công dân"):
        submit(mother, world.commune, declaration=birth(MISSING, quan_he_nguoi_yeu_cau="ong_ba"))


def test_a_dead_mothers_pin_is_refused(world: World) -> None:
    applicant = make_citizen(full_name="Lê Văn Tư", sex="M", birth_date=date(1960, 1, 1))
    dead = make_citizen(
        full_name="Lê Thị Mận", sex="F", birth_date=date(1990, 1, 1), death_date=date(2025, 1, 1)
    )
    declaration = birth(dead.pin, quan_he_nguoi_yeu_cau="nguoi_than_khac")
    with refused("declaration.me_pin"):
        submit(applicant, world.commune, declaration=declaration)


def test_a_mans_pin_given_as_the_mothers_is_refused(world: World) -> None:
    applicant = make_citizen(full_name="Lê Văn Tư", sex="M", birth_date=date(1960, 1, 1))
    man = make_citizen(full_name="Lê Văn Hải", sex="M", birth_date=date(1990, 1, 1))
    declaration = birth(man.pin, quan_he_nguoi_yeu_cau="nguoi_than_khac")
    with refused("declaration.me_pin", "nam"):
        submit(applicant, world.commune, declaration=declaration)


def test_a_father_who_died_before_the_birth_may_be_named(world: World, mother: Person) -> None:
    father = make_citizen(
        full_name="Nguyễn Văn Hùng",
        sex="M",
        birth_date=date(1990, 1, 1),
        death_date=date(2026, 6, 1),
    )
    filed = submit(mother, world.commune, declaration=birth(mother.pin, cha_pin=father.pin))
    assert filed.created


def test_a_deceased_already_recorded_dead_is_refused(world: World) -> None:
    applicant = make_citizen(full_name="Phạm Thị Hạnh", sex="F", birth_date=date(1970, 3, 3))
    dead = make_citizen(
        full_name="Phạm Văn Lộc", sex="M", birth_date=date(1940, 1, 1), death_date=date(2026, 1, 1)
    )
    with refused("declaration.nguoi_chet_pin"):
        submit(applicant, world.commune, DEATH, declaration=death(dead.pin, "nguoi_than_khac"))


# --- the relation declared -------------------------------------------------------------------


def test_an_applicant_who_says_they_are_the_mother_of_another_womans_child_is_refused(
    world: World, mother: Person
) -> None:
    other = make_citizen(full_name="Trần Thị Hoa", sex="F", birth_date=date(1992, 6, 9))
    with refused("declaration.quan_he_nguoi_yeu_cau", "không phải của bạn"):
        submit(mother, world.commune, declaration=birth(other.pin))


def test_a_father_who_says_he_is_the_father_must_be_the_father_named(
    world: World, mother: Person
) -> None:
    father = make_citizen(full_name="Nguyễn Văn Hùng", sex="M", birth_date=date(1990, 1, 1))
    stranger = make_citizen(full_name="Nguyễn Văn Lạ", sex="M", birth_date=date(1991, 1, 1))
    declaration = birth(mother.pin, cha_pin=father.pin, quan_he_nguoi_yeu_cau="cha")
    with refused("declaration.quan_he_nguoi_yeu_cau"):
        submit(stranger, world.commune, declaration=declaration)
    assert submit(father, world.commune, declaration=declaration).created


def test_a_grandparent_must_be_a_parent_of_the_mother_or_father(world: World) -> None:
    grandmother = make_citizen(full_name="Lê Thị Bà", sex="F", birth_date=date(1960, 1, 1))
    mother = make_citizen(
        full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2), mother_pin=grandmother.pin
    )
    stranger = make_citizen(full_name="Võ Thị Lạ", sex="F", birth_date=date(1961, 1, 1))
    declaration = birth(mother.pin, quan_he_nguoi_yeu_cau="ong_ba")
    with refused("declaration.quan_he_nguoi_yeu_cau"):
        submit(stranger, world.commune, declaration=declaration)
    assert submit(grandmother, world.commune, declaration=declaration).created


def test_a_declared_spouse_of_the_deceased_must_be_their_spouse(world: World) -> None:
    deceased = make_citizen(full_name="Phạm Văn Lộc", sex="M", birth_date=date(1940, 7, 7))
    wife = make_citizen(full_name="Phạm Thị Hạnh", sex="F", birth_date=date(1945, 3, 3))
    marriage_register(actor=SYSTEM, pin_a=deceased.pin, pin_b=wife.pin, married_on=date(1966, 1, 1))
    neighbour = make_citizen(full_name="Võ Thị Lạ", sex="F", birth_date=date(1950, 1, 1))
    with refused("declaration.quan_he"):
        submit(neighbour, world.commune, DEATH, declaration=death(deceased.pin, "vo_chong"))
    assert submit(wife, world.commune, DEATH, declaration=death(deceased.pin, "vo_chong")).created


def test_a_child_of_the_deceased_is_checked_by_the_registrys_links(world: World) -> None:
    deceased = make_citizen(full_name="Phạm Văn Lộc", sex="M", birth_date=date(1940, 7, 7))
    son = make_citizen(
        full_name="Phạm Văn Con", sex="M", birth_date=date(1970, 1, 1), father_pin=deceased.pin
    )
    stranger = make_citizen(full_name="Võ Văn Lạ", sex="M", birth_date=date(1970, 1, 1))
    with refused("declaration.quan_he"):
        submit(stranger, world.commune, DEATH, declaration=death(deceased.pin, "con"))
    assert submit(son, world.commune, DEATH, declaration=death(deceased.pin, "con")).created


def test_the_check_before_submitting_says_the_same(world: World, mother: Person) -> None:
    other = make_citizen(full_name="Trần Thị Hoa", sex="F", birth_date=date(1992, 6, 9))
    submission = Submission(
        procedure_code=BIRTH,
        agency_id=world.commune.pk,
        declaration=birth(other.pin),
        idempotency_key="kiem-tra-truoc-0001",
    )
    with refused("declaration.quan_he_nguoi_yeu_cau"):
        dossier_submission_check(actor=as_citizen(mother), submission=submission)
