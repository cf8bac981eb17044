from __future__ import annotations

from datetime import date
from typing import Protocol

import pytest
from django.utils import translation

from motcua.core.actors import SYSTEM, Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import AccessLog
from motcua.insurance import selectors, services
from motcua.insurance.tests.factories import INSURANCE_OFFICIAL, OUTSIDER
from motcua.registry.services import citizen_record_death
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db


class Person(Protocol):
    """A citizen of the registry's test factory (its model is not this app's to import)."""

    pin: str


PURPOSE = "Giải quyết hồ sơ"


def _death_with_decisions(reference: str = "D-9") -> tuple[Person, Person]:
    deceased = make_citizen(birth_date=date(1950, 1, 1))
    relative = make_citizen(full_name="Phạm Thị Cúc", sex="F", birth_date=date(1975, 2, 3))
    services.insured_register(
        actor=SYSTEM, pin=deceased.pin, standing="pensioner", since=date(2012, 1, 1)
    )
    citizen_record_death(
        actor=SYSTEM, pin=deceased.pin, death_date=date(2026, 4, 1), today=date(2026, 12, 31)
    )
    for decide in (services.funeral_allowance_decide, services.survivor_benefit_decide):
        decide(
            actor=SYSTEM,
            deceased_pin=deceased.pin,
            beneficiary_pin=relative.pin,
            decided_on=date(2026, 4, 10),
            reference=reference,
        )
    return deceased, relative


def test_standing_is_none_insured_or_pensioner_and_writes_no_access_log() -> None:
    person = make_citizen()
    assert selectors.insurance_standing(person.pin) is None
    services.insured_register(
        actor=SYSTEM, pin=person.pin, standing="insured", since=date(2020, 1, 1)
    )
    logs = AccessLog.objects.count()
    assert selectors.insurance_standing(person.pin) == "insured"
    assert selectors.insurance_standing(person.pin, on=date(2019, 12, 31)) is None
    assert selectors.insurance_standing(person.pin, on=date(2020, 1, 1)) == "insured"
    assert AccessLog.objects.count() == logs


def test_a_deceased_pensioner_still_routes_as_a_pensioner() -> None:
    deceased, _relative = _death_with_decisions()
    assert selectors.insurance_standing(deceased.pin) == "pensioner"
    assert selectors.insurance_standing(deceased.pin, on=date(2026, 4, 2)) is None


def test_cards_read_by_an_official_are_logged_and_by_the_person_are_not() -> None:
    child = make_citizen(birth_date=date(2026, 1, 2))
    services.health_card_issue(actor=SYSTEM, pin=child.pin, valid_from=date(2026, 1, 2))
    logs = AccessLog.objects.filter(subject_pin=child.pin).count()
    cards = selectors.health_cards_of(actor=INSURANCE_OFFICIAL, pin=child.pin, purpose=PURPOSE)
    assert [c.valid_to for c in cards] == [date(2032, 9, 30)]
    assert AccessLog.objects.filter(subject_pin=child.pin).count() == logs + 1
    assert AccessLog.objects.latest("id").data == "insurance.healthcard"
    own = Actor(kind="citizen", ref=child.pin, pin=child.pin)
    assert selectors.health_cards_of(actor=own, pin=child.pin, purpose="") == cards
    assert AccessLog.objects.filter(subject_pin=child.pin).count() == logs + 1


def test_another_persons_cards_need_the_permission_and_a_purpose() -> None:
    child = make_citizen(birth_date=date(2026, 1, 2))
    with pytest.raises(PermissionDenied):
        selectors.health_cards_of(actor=OUTSIDER, pin=child.pin, purpose=PURPOSE)
    other = Actor(kind="citizen", ref="x", pin="001084000001")
    with pytest.raises(PermissionDenied):
        selectors.health_cards_of(actor=other, pin=child.pin, purpose=PURPOSE)
    with pytest.raises(ValidationFailed):
        selectors.health_cards_of(actor=INSURANCE_OFFICIAL, pin=child.pin, purpose=" ")
    with pytest.raises(PermissionDenied):
        selectors.benefit_decisions_of(actor=OUTSIDER, pin=child.pin, purpose=PURPOSE)


def test_decisions_are_found_for_the_deceased_and_the_beneficiary() -> None:
    deceased, relative = _death_with_decisions()
    of_deceased = selectors.benefit_decisions_of(
        actor=INSURANCE_OFFICIAL, pin=deceased.pin, purpose=PURPOSE
    )
    assert {d.kind for d in of_deceased} == {"funeral", "survivor_one_time"}
    own = Actor(kind="citizen", ref=relative.pin, pin=relative.pin)
    assert selectors.benefit_decisions_of(actor=own, pin=relative.pin, purpose="") == of_deceased


def test_outcome_by_reference_names_what_was_done_in_words() -> None:
    child = make_citizen(birth_date=date(2026, 5, 15))
    card = services.health_card_issue(
        actor=SYSTEM, pin=child.pin, valid_from=date(2026, 5, 15), reference="UBND-1"
    )
    assert selectors.outcome_by_reference("UBND-1") == [
        f"Thẻ BHYT {card.code}, hiệu lực đến 30/09/2032"
    ]
    _death_with_decisions("UBND-2")
    funeral, survivor = selectors.outcome_by_reference("UBND-2")
    assert funeral.startswith("Quyết định số ") and "ngày 10/04/2026: trợ cấp mai táng" in funeral
    assert funeral.endswith("23.400.000 đ")
    assert "trợ cấp tuất một lần" in survivor
    assert selectors.outcome_by_reference("") == []
    assert selectors.outcome_by_reference("UBND-3") == []


def test_amounts_are_grouped_by_the_language() -> None:
    assert selectors.money_label(23_400_000) == "23.400.000 đ"
    with translation.override("en"):
        assert selectors.money_label(23_400_000).startswith("23,400,000")
