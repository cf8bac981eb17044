"""Contacts on record (given in person, where one-time codes for an e-ID registration may go)
and identity verification that answers nothing the caller does not already know."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from motcua.core.actors import Actor
from motcua.core.errors import ValidationFailed
from motcua.core.models import AuditEntry
from motcua.registry import selectors, services
from motcua.registry.models import Citizen, IdCard, LifeEvent
from motcua.registry.selectors import (
    MATCH,
    NO_MATCH,
    NOT_CHECKED,
    IdentityClaim,
    Verification,
    age_from_partial_date,
    citizen_contacts_on_record,
    citizen_verify,
)
from motcua.registry.services import ContactGiven, ResidenceMove
from motcua.registry.tests.factories import OFFICIAL, make_citizen, ward_keys

pytestmark = pytest.mark.django_db

PARTNER = Actor(kind="partner", ref="bank", permissions=frozenset({selectors.VERIFY_PERMISSION}))
NAME = "Trần Thị Bình"
BORN = date(1990, 3, 8)


def _person(**fields: Any) -> Citizen:
    return make_citizen(full_name=NAME, sex="F", birth_date=BORN, **fields)


def _verify(
    pin: str, full_name: str = NAME, birth_date: str = "1990-03-08", **kw: str
) -> Verification:
    return citizen_verify(
        actor=PARTNER,
        claim=IdentityClaim(pin=pin, full_name=full_name, birth_date=birth_date, **kw),
        purpose="Mở tài khoản",
    )


# --- item 12: the eKYC answers ------------------------------------------------------------------


def test_attack_birth_date_enumeration_with_a_wrong_name_learns_nothing() -> None:
    """Knowing a PIN (which gives the year) but not the name, trying every day of the year
    must give the same answer for every day: the true date is never singled out."""
    person = _person()
    day = date(1990, 1, 1)
    answers = set()
    while day.year == 1990:
        result = _verify(person.pin, full_name="Nguyễn Văn Sai", birth_date=day.isoformat())
        answers.add((result.pin, result.full_name, result.birth_date, result.card_number))
        assert result.alive is None and not result.matches
        day += timedelta(days=1)
    assert answers == {(MATCH, NO_MATCH, NOT_CHECKED, NOT_CHECKED)}


def test_attack_alive_oracle_without_matching_identity_is_refused() -> None:
    """Whether someone is alive (or dead) is told only to a caller who already has the PIN,
    the name and the birth date right."""
    living, dead = _person(), _person()
    services.citizen_record_death(
        actor=OFFICIAL, pin=dead.pin, death_date=date(2025, 1, 2), reason="test"
    )
    for pin in (living.pin, dead.pin):
        assert _verify(pin, full_name="Ai Đó").alive is None
        assert _verify(pin, birth_date="1991-03-08").alive is None
        assert _verify(pin, birth_date="1990").alive is None
    assert _verify("087190999999").alive is None
    assert _verify(living.pin).alive is True
    dead_answer = _verify(dead.pin)
    assert dead_answer.alive is False and not dead_answer.matches


def test_per_field_answers_when_the_name_matches() -> None:
    person = _person()
    services.idcard_issue(actor=OFFICIAL, pin=person.pin, issued_on=date(2021, 6, 1))
    right = _verify(person.pin, full_name="  TRẦN thị  bình ", card_number=person.pin)
    assert (right.full_name, right.birth_date, right.card_number) == (MATCH, MATCH, MATCH)
    assert right.alive is True and right.matches
    wrong_date = _verify(person.pin, birth_date="1990-08-03", card_number=person.pin)
    assert (wrong_date.full_name, wrong_date.birth_date) == (MATCH, NO_MATCH)
    assert wrong_date.card_number == NOT_CHECKED and wrong_date.alive is None
    wrong_card = _verify(person.pin, card_number="123456789")
    assert wrong_card.card_number == NO_MATCH and not wrong_card.matches


# --- item 3: contacts on record -----------------------------------------------------------------


def test_a_card_issued_with_a_phone_records_it_with_where_and_when() -> None:
    person = _person()
    services.idcard_issue(
        actor=OFFICIAL,
        pin=person.pin,
        issued_on=date(2024, 5, 2),
        contact=ContactGiven(phone="+84 912 345 612"),
    )
    (contact,) = citizen_contacts_on_record(pin=person.pin)
    assert (contact.kind, contact.value, contact.masked, contact.source) == (
        "phone",
        "0912345612",
        "09******12",
        "card_issuance",
    )
    assert contact.recorded_at is not None
    event = LifeEvent.objects.filter(citizen=person, kind="card").get()
    assert event.after["phone"] == "0912345612" and event.before == {"phone": None}
    assert AuditEntry.objects.filter(action="registry.card", object_id=person.pin).exists()


def test_a_residence_registration_records_an_email_and_keeps_the_phone() -> None:
    person = _person(phone="0987654321", phone_source="card_issuance")
    services.residence_move(
        actor=OFFICIAL,
        pin=person.pin,
        move=ResidenceMove(
            kind="temporary", since=date(2025, 2, 1), ward=ward_keys()[1], address="Số 3, Ấp 2"
        ),
        contact=ContactGiven(email=" Binh.Tran@Example.vn "),
    )
    contacts = citizen_contacts_on_record(pin=person.pin)
    assert [(c.kind, c.value, c.masked, c.source) for c in contacts] == [
        ("phone", "0987654321", "09******21", "card_issuance"),
        ("email", "binh.tran@example.vn", "bi***@example.vn", "residence_registration"),
    ]


def test_a_bad_contact_is_refused_and_nothing_is_written() -> None:
    person = _person()
    for contact, field in (
        (ContactGiven(phone="12345"), "contact.phone"),
        (ContactGiven(email="khong-phai-email"), "contact.email"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.idcard_issue(
                actor=OFFICIAL, pin=person.pin, issued_on=date(2024, 5, 2), contact=contact
            )
        assert field in caught.value.errors
    assert not IdCard.objects.filter(citizen=person).exists()
    assert citizen_contacts_on_record(pin=person.pin) == []


def test_no_contacts_for_an_unknown_pin_and_a_bad_pin_is_refused() -> None:
    assert citizen_contacts_on_record(pin="087190999999") == []
    with pytest.raises(ValidationFailed):
        citizen_contacts_on_record(pin="12")


def test_age_from_a_partial_date_is_the_youngest_possible() -> None:
    assert age_from_partial_date("2012-05-12", on=date(2026, 5, 11)) == 13
    assert age_from_partial_date("2012", on=date(2026, 12, 30)) == 13
    assert age_from_partial_date("2012", on=date(2026, 12, 31)) == 14
