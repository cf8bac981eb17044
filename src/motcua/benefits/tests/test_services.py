from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Protocol

import pytest

from motcua.benefits import selectors, services
from motcua.benefits.models import Recipient, SupportDecision
from motcua.benefits.selectors import SupportDecisionView
from motcua.benefits.tests.factories import LABOUR_OFFICIAL, OUTSIDER
from motcua.core.actors import SYSTEM, Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import AccessLog, AuditEntry
from motcua.insurance.services import insured_register
from motcua.registry.services import citizen_record_death
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db


class Person(Protocol):
    """A citizen of the registry's test factory (its model is not this app's to import)."""

    pin: str


SINCE = date(2025, 1, 1)
DIED = date(2026, 2, 14)
PURPOSE = "Giải quyết hồ sơ"


def _counts() -> tuple[int, ...]:
    return (
        Recipient.objects.count(),
        Recipient.objects.filter(ended_on__isnull=True).count(),
        SupportDecision.objects.count(),
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


def _elder(death_date: date | None = None) -> Person:
    return make_citizen(
        full_name="Đỗ Thị Hường", sex="F", birth_date=date(1940, 3, 8), death_date=death_date
    )


def _recipient(category: str = "elderly_80") -> Person:
    person = _elder()
    services.recipient_register(
        actor=LABOUR_OFFICIAL, pin=person.pin, category=category, since=SINCE
    )
    return person


def _dies(person: Person, on: date = DIED) -> None:
    citizen_record_death(actor=SYSTEM, pin=person.pin, death_date=on, today=date(2026, 12, 31))


def _relative() -> Person:
    return make_citizen(full_name="Đỗ Văn Hải", birth_date=date(1968, 7, 1))


def _funeral(
    deceased: str, beneficiary: str, reference: str = "UBND-260215-0001"
) -> SupportDecisionView:
    return services.funeral_support_decide(
        actor=LABOUR_OFFICIAL,
        deceased_pin=deceased,
        beneficiary_pin=beneficiary,
        decided_on=date(2026, 2, 20),
        reference=reference,
    )


class TestRecipientRegister:
    def test_an_elder_of_80_gets_the_standard_times_the_coefficient(self) -> None:
        person = _recipient()
        view = selectors.recipient_of(person.pin)
        assert view is not None
        assert (view.category, view.monthly_allowance, view.since) == ("elderly_80", 500_000, SINCE)
        assert view.receiving and view.receiving_on(SINCE)
        assert view.category_label == "người từ đủ 80 tuổi không có lương hưu"
        assert view.monthly_allowance_label == "500.000 đ mỗi tháng"
        assert AuditEntry.objects.latest("id").action == "benefits.recipient_register"

    def test_an_orphan_under_four_gets_two_and_a_half_standards(self) -> None:
        child = make_citizen(birth_date=date(2024, 1, 1))
        services.recipient_register(
            actor=SYSTEM, pin=child.pin, category="orphan_under_4", since=SINCE
        )
        assert Recipient.objects.get(pin=child.pin).monthly_allowance == 1_250_000

    def test_the_standard_of_the_first_month_applies(self) -> None:
        person = _elder()
        services.recipient_register(
            actor=SYSTEM, pin=person.pin, category="elderly_80", since=date(2023, 1, 1)
        )
        assert Recipient.objects.get(pin=person.pin).monthly_allowance == 360_000

    def test_registering_twice_writes_once_and_another_category_is_refused(self) -> None:
        person = _recipient()
        before = _counts()
        services.recipient_register(
            actor=SYSTEM, pin=person.pin, category="elderly_80", since=SINCE
        )
        assert _counts() == before
        with refused("category", "đang hưởng"):
            services.recipient_register(
                actor=SYSTEM, pin=person.pin, category="disabled_severe", since=SINCE
            )

    def test_a_person_too_young_for_the_category_is_refused(self) -> None:
        young = make_citizen(birth_date=date(1950, 1, 1))
        with refused("category", "75 tuổi"):
            services.recipient_register(
                actor=SYSTEM, pin=young.pin, category="elderly_80", since=SINCE
            )
        with refused("category"):
            services.recipient_register(actor=SYSTEM, pin=young.pin, category="orphan", since=SINCE)

    def test_a_pensioner_is_not_an_elder_without_pension(self) -> None:
        person = _elder()
        insured_register(actor=SYSTEM, pin=person.pin, standing="pensioner", since=date(2000, 1, 1))
        with refused("category", "lương hưu"):
            services.recipient_register(
                actor=SYSTEM, pin=person.pin, category="elderly_80", since=SINCE
            )

    def test_a_dead_or_unknown_person_or_an_unknown_category_is_refused(self) -> None:
        with refused("pin", "đã mất"):
            services.recipient_register(
                actor=SYSTEM,
                pin=_elder(death_date=date(2024, 1, 1)).pin,
                category="elderly_80",
                since=SINCE,
            )
        with refused("pin"):
            services.recipient_register(
                actor=SYSTEM, pin="087040999999", category="elderly_80", since=SINCE
            )
        with refused("category"):
            services.recipient_register(
                actor=SYSTEM, pin=_elder().pin, category="rich", since=SINCE
            )

    def test_a_date_before_the_rates_is_refused(self) -> None:
        with refused("since"):
            services.recipient_register(
                actor=SYSTEM, pin=_elder().pin, category="disabled_severe", since=date(2020, 1, 1)
            )

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        person = _elder()
        before = _counts()
        with pytest.raises(PermissionDenied):
            services.recipient_register(
                actor=OUTSIDER, pin=person.pin, category="elderly_80", since=SINCE
            )
        assert _counts() == before


class TestFuneralSupport:
    def test_fifty_standards_and_the_allowance_ends_at_the_death(self) -> None:
        deceased, relative = _recipient(), _relative()
        _dies(deceased)
        decision = _funeral(deceased.pin, relative.pin)
        assert decision.amount == 25_000_000
        assert decision.number.endswith("/2026/QĐ-TGXH")
        assert decision.kind_label == "hỗ trợ chi phí mai táng"
        view = selectors.recipient_of(deceased.pin)
        assert view is not None
        assert (view.ended_on, view.end_reason) == (DIED, "death")
        assert view.receiving  # stopped by the death only: still routes the death package
        assert not view.receiving_on(date(2026, 2, 15))
        actions = list(AuditEntry.objects.order_by("-id").values_list("action", flat=True)[:2])
        assert actions == ["benefits.allowance_stop", "benefits.funeral_support_decide"]

    def test_the_standard_of_the_month_of_death_applies(self) -> None:
        person = _elder()
        services.recipient_register(
            actor=SYSTEM, pin=person.pin, category="elderly_80", since=date(2022, 1, 1)
        )
        _dies(person, date(2024, 6, 30))
        assert _funeral(person.pin, _relative().pin).amount == 20 * 360_000

    def test_a_retried_decision_returns_the_first_and_writes_nothing(self) -> None:
        deceased, relative = _recipient(), _relative()
        _dies(deceased)
        first = _funeral(deceased.pin, relative.pin)
        before = _counts()
        assert _funeral(deceased.pin, relative.pin) == first
        assert _counts() == before

    def test_a_second_decision_for_the_same_death_or_a_replayed_reference_is_refused(self) -> None:
        deceased, relative = _recipient(), _relative()
        _dies(deceased)
        first = _funeral(deceased.pin, relative.pin, reference="D-1")
        with refused("deceased_pin", first.number):
            _funeral(deceased.pin, _relative().pin, reference="D-2")
        other = _recipient()
        _dies(other)
        with refused("reference", "D-1"):
            _funeral(other.pin, relative.pin, reference="D-1")

    def test_a_decision_for_a_living_person_is_refused(self) -> None:
        living, relative = _recipient(), _relative()
        with refused("deceased_pin", "chưa được ghi nhận đã mất"):
            _funeral(living.pin, relative.pin)

    def test_a_decision_for_someone_who_was_not_a_recipient_is_refused(self) -> None:
        stranger = _elder(death_date=DIED)
        with refused("deceased_pin", "không hưởng trợ cấp"):
            _funeral(stranger.pin, _relative().pin)

    def test_a_decision_for_someone_whose_allowance_stopped_before_the_death_is_refused(
        self,
    ) -> None:
        deceased = _recipient()
        services.allowance_stop(
            actor=SYSTEM, pin=deceased.pin, on=date(2025, 6, 30), reason="moved"
        )
        _dies(deceased)
        with refused("deceased_pin", "không hưởng trợ cấp"):
            _funeral(deceased.pin, _relative().pin)

    def test_an_allowance_stopped_at_the_death_beforehand_still_counts(self) -> None:
        deceased = _recipient()
        _dies(deceased)
        services.allowance_stop(
            actor=SYSTEM, pin=deceased.pin, on=DIED, reason="death", reference="D-1"
        )
        decision = _funeral(deceased.pin, _relative().pin, reference="D-1")
        assert decision.amount == 25_000_000
        assert selectors.outcome_by_reference("D-1")[1].startswith(
            "Thôi hưởng trợ cấp xã hội hằng tháng từ 14/02/2026"
        )

    def test_a_dead_beneficiary_or_an_early_decision_date_is_refused(self) -> None:
        deceased = _recipient()
        _dies(deceased)
        with refused("beneficiary_pin", "đã mất"):
            _funeral(deceased.pin, _elder(death_date=date(2025, 3, 1)).pin)
        with refused("beneficiary_pin"):
            _funeral(deceased.pin, deceased.pin)
        with refused("decided_on"):
            services.funeral_support_decide(
                actor=SYSTEM,
                deceased_pin=deceased.pin,
                beneficiary_pin=_relative().pin,
                decided_on=date(2026, 2, 1),
            )

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        deceased = _recipient()
        _dies(deceased)
        before = _counts()
        with pytest.raises(PermissionDenied):
            services.funeral_support_decide(
                actor=OUTSIDER,
                deceased_pin=deceased.pin,
                beneficiary_pin=_relative().pin,
                decided_on=DIED,
            )
        assert _counts() == before


class TestAllowanceStop:
    def test_a_stop_is_recorded_and_repeating_it_writes_nothing(self) -> None:
        person = _recipient()
        services.allowance_stop(
            actor=LABOUR_OFFICIAL,
            pin=person.pin,
            on=date(2025, 9, 30),
            reason="moved",
            reference="S-1",
        )
        before = _counts()
        services.allowance_stop(
            actor=LABOUR_OFFICIAL,
            pin=person.pin,
            on=date(2025, 9, 30),
            reason="moved",
            reference="S-1",
        )
        services.allowance_stop(
            actor=LABOUR_OFFICIAL, pin=person.pin, on=date(2025, 9, 30), reason="moved"
        )
        assert _counts() == before
        view = selectors.recipient_of(person.pin)
        assert view is not None and not view.receiving
        assert view.end_reason_label == "chuyển nơi cư trú"
        with refused("pin", "30/09/2025"):
            services.allowance_stop(
                actor=LABOUR_OFFICIAL, pin=person.pin, on=date(2025, 10, 31), reason="moved"
            )

    def test_a_reason_in_words_is_kept_as_another_reason(self) -> None:
        person = _recipient()
        services.allowance_stop(
            actor=SYSTEM, pin=person.pin, on=date(2025, 9, 30), reason="Đi nước ngoài"
        )
        stopped = Recipient.objects.get(pin=person.pin)
        assert (stopped.end_reason, stopped.end_note) == ("other", "Đi nước ngoài")

    def test_bad_stops_are_refused(self) -> None:
        person = _recipient()
        with refused("reason"):
            services.allowance_stop(actor=SYSTEM, pin=person.pin, on=date(2025, 9, 30), reason=" ")
        with refused("on"):
            services.allowance_stop(
                actor=SYSTEM, pin=person.pin, on=date(2024, 12, 31), reason="moved"
            )
        with refused("pin"):
            services.allowance_stop(
                actor=SYSTEM, pin=_elder().pin, on=date(2025, 9, 30), reason="moved"
            )
        with pytest.raises(PermissionDenied):
            services.allowance_stop(
                actor=OUTSIDER, pin=person.pin, on=date(2025, 9, 30), reason="moved"
            )


def test_the_demo_seed_adds_each_person_once() -> None:
    pins = [_elder().pin for _ in range(3)]
    assert services.benefits_demo_seed(actor=SYSTEM, pins=pins + pins[:1], since=SINCE) == 3
    assert {selectors.recipient_of(pin).monthly_allowance for pin in pins} == {500_000}  # type: ignore[union-attr]
    before = _counts()
    assert services.benefits_demo_seed(actor=SYSTEM, pins=pins, since=SINCE) == 0
    assert _counts() == before
    with pytest.raises(PermissionDenied):
        services.benefits_demo_seed(actor=OUTSIDER, pins=pins, since=SINCE)


class TestSelectors:
    def test_recipient_of_is_none_for_others_and_writes_no_access_log(self) -> None:
        person = make_citizen()
        logs = AccessLog.objects.count()
        assert selectors.recipient_of(person.pin) is None
        assert AccessLog.objects.count() == logs

    def test_decisions_read_by_an_official_are_logged_and_by_the_person_are_not(self) -> None:
        deceased, relative = _recipient(), _relative()
        _dies(deceased)
        decision = _funeral(deceased.pin, relative.pin, reference="D-7")
        logs = AccessLog.objects.filter(subject_pin=relative.pin).count()
        assert selectors.support_decisions_of(
            actor=LABOUR_OFFICIAL, pin=relative.pin, purpose=PURPOSE
        ) == [decision]
        assert AccessLog.objects.filter(subject_pin=relative.pin).count() == logs + 1
        own = Actor(kind="citizen", ref=relative.pin, pin=relative.pin)
        assert selectors.support_decisions_of(actor=own, pin=relative.pin, purpose="") == [decision]
        assert AccessLog.objects.filter(subject_pin=relative.pin).count() == logs + 1
        with pytest.raises(PermissionDenied):
            selectors.support_decisions_of(actor=OUTSIDER, pin=relative.pin, purpose=PURPOSE)
        with pytest.raises(ValidationFailed):
            selectors.support_decisions_of(actor=LABOUR_OFFICIAL, pin=relative.pin, purpose="")

    def test_outcome_by_reference_names_the_decision_and_the_stop(self) -> None:
        deceased = _recipient()
        _dies(deceased)
        _funeral(deceased.pin, _relative().pin, reference="D-8")
        decision, stop = selectors.outcome_by_reference("D-8")
        assert "ngày 20/02/2026: hỗ trợ chi phí mai táng 25.000.000 đ" in decision
        assert stop == "Thôi hưởng trợ cấp xã hội hằng tháng từ 14/02/2026 (đã mất)"
        assert selectors.outcome_by_reference("") == []
