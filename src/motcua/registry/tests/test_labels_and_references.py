"""People see words, not codes: the registry's selectors give labels (in the active language)
for sex, life events, residence kinds, relations and partial dates. And a PIN that a declaration
gives for another person is checked: its sex for the role, that someone has it, the name."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from motcua.core.actors import Actor
from motcua.core.models import AccessLog
from motcua.registry.selectors import (
    citizen_get,
    life_event_label,
    partial_date_label,
    person_reference_problem,
    relation_label,
    residence_kind_label,
    sex_label,
)
from motcua.registry.tests.factories import OFFICIAL, make_citizen

APPLICANT = Actor(kind="citizen", ref="087190000001", pin="087190000001")
PURPOSE = "Kiểm tra tờ khai hồ sơ"


def test_codes_come_with_their_labels():
    assert (sex_label("M"), sex_label("F")) == ("Nam", "Nữ")
    assert life_event_label("birth") == "khai sinh"
    assert residence_kind_label("temporary") == "tạm trú"
    assert relation_label("head") == "chủ hộ"
    assert relation_label(None) == ""
    assert sex_label("X") == "X"  # an unknown code is shown as it is rather than hidden


def test_labels_follow_the_language():
    with translation.override("en"):
        assert sex_label("F") in ("Female", "Nữ")  # "Nữ" until the English catalog is compiled


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("1956-05-17", "17/05/1956"), ("1956-05", "05/1956"), ("1956", "1956")],
)
def test_partial_dates_are_shown_as_people_write_them(stored: str, shown: str):
    assert partial_date_label(stored) == shown


@pytest.mark.django_db
def test_a_citizen_record_gives_labels_for_its_codes():
    person = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))

    record = citizen_get(actor=OFFICIAL, pin=person.pin, purpose="Kiểm tra")

    assert (record.sex_label, record.status_label, record.birth_date_label) == (
        "Nữ",
        "Còn sống",
        "02/04/1995",
    )


@pytest.mark.django_db
def test_a_man_s_pin_is_not_a_mother_s_even_without_reading_the_registry():
    man = make_citizen(full_name="Phạm Văn Long", sex="M")

    problem = person_reference_problem(actor=APPLICANT, pin=man.pin, sex="F", purpose=PURPOSE)

    assert problem is not None and "người nam" in problem
    assert not AccessLog.objects.filter(subject_pin=man.pin).exists()


@pytest.mark.django_db
def test_a_pin_nobody_has_is_refused():
    problem = person_reference_problem(actor=APPLICANT, pin="087195999999", purpose=PURPOSE)

    assert problem is not None and "Không có công dân" in problem


@pytest.mark.django_db
def test_a_malformed_pin_is_refused_with_the_reason():
    assert person_reference_problem(actor=APPLICANT, pin="12345", purpose=PURPOSE)


@pytest.mark.django_db
def test_the_name_must_be_that_person_s_and_the_check_is_logged():
    mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))

    assert (
        person_reference_problem(
            actor=APPLICANT, pin=mother.pin, sex="F", full_name="  lê thị  MAI", purpose=PURPOSE
        )
        is None
    )
    wrong = person_reference_problem(
        actor=APPLICANT, pin=mother.pin, sex="F", full_name="Lê Thị Lan", purpose=PURPOSE
    )
    assert wrong is not None and "không khớp" in wrong
    assert AccessLog.objects.filter(subject_pin=mother.pin, purpose=PURPOSE).count() == 2
