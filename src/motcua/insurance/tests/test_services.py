from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Protocol

import pytest
from django.utils import timezone

from motcua.core.actors import SYSTEM
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import AccessLog, AuditEntry
from motcua.insurance import services
from motcua.insurance.models import (
    BenefitDecision,
    EndReason,
    HealthCard,
    InsuranceNumber,
    InsuredPerson,
)
from motcua.insurance.selectors import BenefitDecisionView, HealthCardView, insurance_standing
from motcua.insurance.tests.factories import BLIND_OFFICIAL, INSURANCE_OFFICIAL, OUTSIDER
from motcua.registry.services import citizen_record_death
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db


class Person(Protocol):
    """A citizen of the registry's test factory (its model is not this app's to import)."""

    pin: str


BORN = date(2026, 5, 15)
DIED = date(2026, 3, 10)


def _counts() -> tuple[int, ...]:
    return (
        HealthCard.objects.count(),
        BenefitDecision.objects.count(),
        InsuredPerson.objects.filter(ended_on__isnull=True).count(),
        InsuranceNumber.objects.count(),
        AuditEntry.objects.count(),
        AccessLog.objects.count(),
    )


@contextmanager
def refused(field: str, message: str = "") -> Iterator[None]:
    """The block must fail on `field` (with `message` in its text) and write nothing."""
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        yield
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field], caught.value.errors
    assert _counts() == before


def _child(
    birth: date = BORN, *, death_date: date | None = None, birth_date_precision: str = "day"
) -> Person:
    return make_citizen(
        full_name="Lê Minh Khôi",
        birth_date=birth,
        death_date=death_date,
        birth_date_precision=birth_date_precision,
    )


def _issue(
    pin: str, valid_from: date = BORN, reference: str = "UBND-260515-0001"
) -> HealthCardView:
    return services.health_card_issue(
        actor=INSURANCE_OFFICIAL, pin=pin, valid_from=valid_from, reference=reference
    )


class TestHealthCard:
    def test_a_newborn_gets_a_free_te_card_to_the_end_of_the_school_year(self) -> None:
        child = _child()
        audits = AuditEntry.objects.count()
        card = services.health_card_issue(
            actor=INSURANCE_OFFICIAL, pin=child.pin, valid_from=BORN, reference="D-1"
        )
        number = InsuranceNumber.objects.get(pin=child.pin).number
        assert card.code == f"TE1{child.pin[1:3]}{number}"
        assert len(card.code) == 15 and number[:2] == child.pin[1:3]
        assert (card.valid_from, card.valid_to) == (BORN, date(2032, 9, 30))
        assert card.label == f"Thẻ BHYT {card.code}, hiệu lực đến 30/09/2032"
        assert card.group_label == "trẻ em dưới 6 tuổi"
        assert AuditEntry.objects.count() == audits + 1
        assert AuditEntry.objects.latest("id").action == "insurance.health_card_issue"
        # The official's read of the child's record is in the child's access log.
        assert AccessLog.objects.filter(subject_pin=child.pin, actor="official:bhxh.test").exists()

    def test_a_child_turning_six_after_september_keeps_the_card_to_the_day_before(self) -> None:
        child = _child(date(2021, 11, 20))
        card = _issue(child.pin, valid_from=date(2026, 1, 1))
        assert card.valid_to == date(2027, 11, 19)

    def test_a_retried_issue_with_the_same_reference_returns_the_first_card(self) -> None:
        child = _child()
        first = _issue(child.pin)
        before = _counts()
        assert _issue(child.pin) == first
        assert _counts() == before

    def test_a_second_card_for_the_same_child_is_refused(self) -> None:
        child = _child()
        card = _issue(child.pin, reference="D-1")
        with refused("pin", card.code):
            _issue(child.pin, reference="D-2")

    def test_a_reference_replayed_for_another_child_is_refused(self) -> None:
        _issue(_child().pin, reference="D-1")
        with refused("reference", "D-1"):
            _issue(_child().pin, reference="D-1")

    def test_a_six_year_old_is_refused(self) -> None:
        child = _child(date(2020, 5, 15))
        with refused("pin", "6 tuổi"):
            _issue(child.pin, valid_from=date(2026, 5, 15))
        card = _issue(child.pin, valid_from=date(2026, 5, 14))  # the day before: still under 6
        assert card.valid_to == date(2026, 9, 30)

    def test_a_card_valid_before_the_birth_is_refused(self) -> None:
        with refused("valid_from"):
            _issue(_child().pin, valid_from=date(2026, 5, 14))

    def test_a_dead_child_or_an_unknown_pin_is_refused(self) -> None:
        with refused("pin", "đã mất"):
            _issue(_child(death_date=date(2026, 6, 1)).pin)
        with refused("pin", "087226999999"):
            _issue("087226999999")
        with refused("pin"):
            _issue("not-a-pin")

    def test_a_child_known_only_by_birth_year_is_refused(self) -> None:
        with refused("pin", "ngày sinh"):
            _issue(_child(birth_date_precision="year").pin, valid_from=date(2026, 6, 1))

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        child = _child()
        before = _counts()
        with pytest.raises(PermissionDenied):
            services.health_card_issue(actor=OUTSIDER, pin=child.pin, valid_from=BORN)
        with pytest.raises(PermissionDenied):  # the registry's read needs its own permission
            services.health_card_issue(actor=BLIND_OFFICIAL, pin=child.pin, valid_from=BORN)
        assert _counts() == before

    def test_the_system_actor_may_issue(self) -> None:
        card = services.health_card_issue(actor=SYSTEM, pin=_child().pin, valid_from=BORN)
        assert card.reference == ""
        assert card.facility_label == "Trạm y tế xã, phường nơi cư trú"

    def test_a_child_who_has_an_insurance_number_keeps_it(self) -> None:
        child = _child()
        InsuranceNumber.objects.create(pin=child.pin, number="8712345678", issued_at=timezone.now())
        assert _issue(child.pin).code.endswith("8712345678")


def _insured(standing: str = "insured", since: date = date(2010, 1, 1)) -> Person:
    person = make_citizen(full_name="Phạm Văn Bình", birth_date=date(1960, 4, 2))
    services.insured_register(actor=SYSTEM, pin=person.pin, standing=standing, since=since)
    return person


def _dies(person: Person, on: date = DIED) -> None:
    citizen_record_death(actor=SYSTEM, pin=person.pin, death_date=on, today=date(2026, 12, 31))


def _relative() -> Person:
    return make_citizen(full_name="Phạm Thị Cúc", sex="F", birth_date=date(1965, 8, 9))


def _funeral(
    deceased: str, beneficiary: str, reference: str = "UBND-260312-0001"
) -> BenefitDecisionView:
    return services.funeral_allowance_decide(
        actor=INSURANCE_OFFICIAL,
        deceased_pin=deceased,
        beneficiary_pin=beneficiary,
        decided_on=date(2026, 3, 20),
        reference=reference,
    )


class TestFuneralAllowance:
    def test_ten_base_salaries_for_an_insured_person_and_the_standing_ends(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        decision = _funeral(deceased.pin, relative.pin)
        assert decision.amount == 23_400_000
        assert decision.number.endswith("/2026/QĐ-BHXH")
        assert decision.kind_label == "trợ cấp mai táng"
        assert "23.400.000" in decision.label
        person = InsuredPerson.objects.get(pin=deceased.pin)
        assert (person.ended_on, person.end_reason) == (DIED, EndReason.DEATH)
        assert insurance_standing(deceased.pin) == "insured"  # still routes the death package
        actions = list(AuditEntry.objects.order_by("-id").values_list("action", flat=True)[:2])
        assert actions == ["insurance.standing_end", "insurance.funeral_decide"]

    def test_the_rate_of_the_month_of_death_applies(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased, date(2024, 6, 30))  # before the base salary rose to 2,340,000
        assert _funeral(deceased.pin, relative.pin).amount == 18_000_000

    def test_a_retried_decision_returns_the_first_and_writes_nothing(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        first = _funeral(deceased.pin, relative.pin)
        before = _counts()
        assert _funeral(deceased.pin, relative.pin) == first
        assert _counts() == before

    def test_a_second_funeral_allowance_for_the_same_death_is_refused(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        first = _funeral(deceased.pin, relative.pin, reference="D-1")
        with refused("deceased_pin", first.number):
            _funeral(deceased.pin, _relative().pin, reference="D-2")

    def test_a_decision_for_a_living_person_is_refused(self) -> None:
        living, relative = _insured(), _relative()
        with refused("deceased_pin", "chưa được ghi nhận đã mất"):
            _funeral(living.pin, relative.pin)

    def test_a_decision_for_someone_neither_insured_nor_a_pensioner_is_refused(self) -> None:
        stranger = make_citizen(death_date=DIED)
        with refused("deceased_pin", "không tham gia BHXH"):
            _funeral(stranger.pin, _relative().pin)

    def test_a_person_whose_insurance_ended_before_the_death_is_refused(self) -> None:
        deceased = _insured()
        InsuredPerson.objects.filter(pin=deceased.pin).update(
            ended_on=date(2020, 1, 1), end_reason=EndReason.STOPPED
        )
        _dies(deceased)
        with refused("deceased_pin", "không tham gia BHXH"):
            _funeral(deceased.pin, _relative().pin)

    def test_a_dead_beneficiary_or_the_deceased_as_beneficiary_is_refused(self) -> None:
        deceased = _insured()
        _dies(deceased)
        with refused("beneficiary_pin", "đã mất"):
            _funeral(deceased.pin, make_citizen(death_date=date(2026, 1, 1)).pin)
        with refused("beneficiary_pin"):
            _funeral(deceased.pin, deceased.pin)

    def test_a_decision_dated_before_the_death_or_before_the_rates_is_refused(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        with refused("decided_on"):
            services.funeral_allowance_decide(
                actor=INSURANCE_OFFICIAL,
                deceased_pin=deceased.pin,
                beneficiary_pin=relative.pin,
                decided_on=date(2026, 3, 1),
            )
        early = _insured(since=date(2000, 1, 1))
        _dies(early, date(2015, 6, 1))
        with refused("deceased_pin", "Chưa có mức"):
            _funeral(early.pin, relative.pin)

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        before = _counts()
        with pytest.raises(PermissionDenied):
            services.funeral_allowance_decide(
                actor=OUTSIDER,
                deceased_pin=deceased.pin,
                beneficiary_pin=relative.pin,
                decided_on=date(2026, 3, 20),
            )
        assert _counts() == before


def _survivor(deceased: str, beneficiary: str, **kwargs: str) -> BenefitDecisionView:
    return services.survivor_benefit_decide(
        actor=INSURANCE_OFFICIAL,
        deceased_pin=deceased,
        beneficiary_pin=beneficiary,
        decided_on=date(2026, 3, 25),
        **kwargs,
    )


class TestSurvivorBenefit:
    def test_a_pensioner_after_six_years_leaves_twelve_months_of_basis(self) -> None:
        # 74 months of pension: 48 - 0.5 x (74 - 2) = 12 months of the base salary.
        deceased, relative = _insured("pensioner", since=date(2020, 1, 1)), _relative()
        _dies(deceased)
        decision = _survivor(deceased.pin, relative.pin, reference="D-1")
        assert decision.amount == 12 * 2_340_000
        assert decision.kind == "survivor_one_time"
        assert Decimal(BenefitDecision.objects.get().basis["months"]) == 12

    def test_an_insured_person_leaves_two_months_per_year_of_their_salary(self) -> None:
        deceased, relative = _insured(since=date(2010, 1, 1)), _relative()
        InsuredPerson.objects.filter(pin=deceased.pin).update(monthly_basis=8_000_000)
        _dies(deceased)
        decision = _survivor(deceased.pin, relative.pin)
        assert decision.amount == 16 * 2 * 8_000_000

    def test_the_minimum_is_three_months(self) -> None:
        deceased, relative = _insured(since=date(2025, 12, 1)), _relative()
        _dies(deceased)
        assert _survivor(deceased.pin, relative.pin).amount == 3 * 2_340_000

    def test_the_funeral_allowance_and_the_survivor_benefit_share_a_dossier(self) -> None:
        deceased, relative = _insured(), _relative()
        _dies(deceased)
        funeral = _funeral(deceased.pin, relative.pin, reference="D-1")
        survivor = _survivor(deceased.pin, relative.pin, reference="D-1")
        assert funeral.number != survivor.number

    def test_a_second_one_time_benefit_is_refused(self) -> None:
        deceased = _insured()
        _dies(deceased)
        _survivor(deceased.pin, _relative().pin, reference="D-1")
        with refused("deceased_pin", "tuất một lần"):
            _survivor(deceased.pin, _relative().pin, reference="D-2")

    def test_a_monthly_benefit_needs_fifteen_years_and_excludes_the_one_time(self) -> None:
        short = _insured(since=date(2015, 1, 1))
        _dies(short)
        with refused("kind", "15"):
            _survivor(short.pin, _relative().pin, kind="survivor_monthly")
        long = _insured(since=date(2005, 1, 1))
        _dies(long)
        monthly = _survivor(long.pin, _relative().pin, kind="survivor_monthly")
        assert monthly.amount == 1_170_000
        assert "mỗi tháng" in monthly.amount_label
        with refused("deceased_pin"):
            _survivor(long.pin, _relative().pin)

    def test_an_unknown_kind_is_refused(self) -> None:
        deceased = _insured()
        _dies(deceased)
        with refused("kind"):
            _survivor(deceased.pin, _relative().pin, kind="funeral")

    def test_a_decision_for_a_living_person_is_refused(self) -> None:
        living = _insured()
        with refused("deceased_pin"):
            _survivor(living.pin, _relative().pin)


class TestInsuredRegister:
    def test_registering_twice_writes_once_and_a_change_is_audited(self) -> None:
        person = _insured()
        before = _counts()
        services.insured_register(
            actor=SYSTEM, pin=person.pin, standing="insured", since=date(2010, 1, 1)
        )
        assert _counts() == before
        services.insured_register(
            actor=SYSTEM, pin=person.pin, standing="pensioner", since=date(2020, 5, 1)
        )
        assert insurance_standing(person.pin) == "pensioner"
        entry = AuditEntry.objects.latest("id")
        assert entry.before is not None and entry.after is not None
        assert entry.before["standing"] == "insured" and entry.after["standing"] == "pensioner"
        assert InsuranceNumber.objects.filter(pin=person.pin).count() == 1

    def test_bad_input_is_refused(self) -> None:
        person = make_citizen(death_date=date(2020, 1, 1))
        with refused("standing"):
            services.insured_register(
                actor=SYSTEM, pin=person.pin, standing="retired", since=date(2010, 1, 1)
            )
        with refused("since"):
            services.insured_register(
                actor=SYSTEM, pin=person.pin, standing="insured", since=date(2021, 1, 1)
            )
        with refused("pin"):
            services.insured_register(
                actor=SYSTEM, pin="087084000000", standing="insured", since=date(2010, 1, 1)
            )
        with pytest.raises(PermissionDenied):
            services.insured_register(
                actor=OUTSIDER, pin=person.pin, standing="insured", since=date(2010, 1, 1)
            )

    def test_a_dead_person_is_not_registered_again(self) -> None:
        deceased = _insured()
        _dies(deceased)
        _funeral(deceased.pin, _relative().pin)
        with refused("pin", "đã mất"):
            services.insured_register(
                actor=SYSTEM, pin=deceased.pin, standing="pensioner", since=date(2011, 1, 1)
            )


def test_the_demo_seed_adds_each_person_once_with_a_unique_number() -> None:
    people = [make_citizen() for _ in range(6)]
    pins = [p.pin for p in people]
    added = services.insurance_demo_seed(
        actor=SYSTEM, pins_insured=pins[:4], pins_pensioners=pins[4:], since=date(2015, 1, 1)
    )
    assert added == 6
    assert [insurance_standing(pin) for pin in pins] == ["insured"] * 4 + ["pensioner"] * 2
    numbers = set(InsuranceNumber.objects.filter(pin__in=pins).values_list("number", flat=True))
    assert len(numbers) == 6
    before = _counts()
    assert (
        services.insurance_demo_seed(
            actor=SYSTEM, pins_insured=pins, pins_pensioners=[], since=date(2015, 1, 1)
        )
        == 0
    )
    assert _counts() == before
    with pytest.raises(PermissionDenied):
        services.insurance_demo_seed(
            actor=OUTSIDER, pins_insured=pins, pins_pensioners=[], since=date(2015, 1, 1)
        )
