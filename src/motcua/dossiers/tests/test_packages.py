"""Linked packages (Decree 63/2024): one submission, one dossier per agency, the result of one
step feeding the next, a refused step stopping what depends on it, never a step twice."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from motcua.benefits.services import recipient_register
from motcua.core.actors import SYSTEM
from motcua.core.errors import NotFound, ValidationFailed
from motcua.dossiers import selectors, services
from motcua.dossiers.models import Dossier, Package, PackageStatus, PackageStep, StepStatus
from motcua.dossiers.tests.factories import as_citizen
from motcua.dossiers.tests.family import Family, birth_package, death_package, drive, family_ready
from motcua.dossiers.tests.helpers import act, working_days_before
from motcua.insurance.selectors import benefit_decisions_of, health_cards_of
from motcua.insurance.services import insured_register
from motcua.registry.selectors import citizen_get, household_of
from motcua.registry.tests.factories import Citizen, make_citizen

pytestmark = pytest.mark.django_db

READ = "test"


@pytest.fixture
def family() -> Family:
    return family_ready()


def steps_of(package_id: int) -> list[PackageStep]:
    return list(PackageStep.objects.filter(package_id=package_id).order_by("position"))


def step_dossier(package_id: int, position: int) -> int:
    dossier_id = PackageStep.objects.get(package_id=package_id, position=position).dossier_id
    assert dossier_id is not None, f"step {position} was not filed"
    return dossier_id


def test_a_birth_package_runs_through_three_agencies_and_completes(family: Family) -> None:
    filed = birth_package(family)
    first = Dossier.objects.get(pk=step_dossier(filed.id, 1))  # filed with the package
    assert first.agency_id == family.world.commune.pk
    assert [s.status for s in steps_of(filed.id)] == ["filed", "waiting", "waiting"]

    drive(family, first.pk)
    services.package_advance(filed.id)
    child_pin = first.effects.get(name="birth_register").outputs["pin"]
    residence = Dossier.objects.get(pk=step_dossier(filed.id, 2))
    card = Dossier.objects.get(pk=step_dossier(filed.id, 3))
    assert residence.agency_id == family.world.police.pk
    assert child_pin in residence.declaration.values()
    assert card.declaration["tre_pin"] == child_pin
    package = Package.objects.get(pk=filed.id)
    assert residence.due_on <= package.due_on and card.due_on <= package.due_on

    drive(family, residence.pk)
    drive(family, card.pk)
    services.package_advance(filed.id)

    package.refresh_from_db()
    assert package.status == PackageStatus.COMPLETED
    child = citizen_get(actor=SYSTEM, pin=child_pin, purpose=READ)
    assert child.mother_pin == family.mother.pin and child.father_pin == family.father.pin
    members = household_of(actor=SYSTEM, pin=child_pin, purpose=READ).members
    assert {m.pin for m in members} == {family.father.pin, family.mother.pin, child_pin}
    cards = health_cards_of(actor=SYSTEM, pin=child_pin, purpose=READ)
    assert len(cards) == 1
    assert Dossier.objects.filter(applicant_pin=family.mother.pin).count() == 3


def test_the_parent_types_only_what_the_state_cannot_know(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    declaration = Dossier.objects.get(pk=step_dossier(filed.id, 1)).declaration
    assert declaration["me_pin"] == family.mother.pin
    assert declaration["cha_pin"] == family.father.pin
    assert declaration["quan_he_nguoi_yeu_cau"] == "me"


def test_a_retry_with_the_same_key_returns_the_first_package(family: Family) -> None:
    key = uuid.uuid4().hex
    first = birth_package(family, key=key)
    again = birth_package(family, key=key)
    assert (again.id, again.created) == (first.id, False)
    assert Package.objects.count() == 1


def test_advancing_again_never_files_a_step_twice(family: Family) -> None:
    filed = birth_package(family)
    for _ in range(3):
        services.package_advance(filed.id)
    drive(family, step_dossier(filed.id, 1))
    for _ in range(3):
        services.package_advance(filed.id)
    assert Dossier.objects.filter(applicant_pin=family.mother.pin).count() == 3


def test_a_crash_between_filing_and_linking_files_the_step_once(family: Family) -> None:
    """The worker filed a later step's dossier and died before tying it to the step: the next
    run finds the dossier of the first try by its idempotency key."""
    filed = birth_package(family)
    drive(family, step_dossier(filed.id, 1))
    package = Package.objects.get(pk=filed.id)
    child_pin = Dossier.objects.get(pk=step_dossier(filed.id, 1)).effects.get().outputs["pin"]
    first_try = services.dossier_submit(
        actor=as_citizen(family.mother),
        submission=services.Submission(
            procedure_code="1.011921",
            agency_id=package.declaration["agencies"]["3"],
            declaration={**package.declaration["steps"]["3"], "tre_pin": child_pin},
            idempotency_key=f"{package.code}.3",
        ),
        eid_level=2,
    )
    services.package_advance(filed.id)
    assert step_dossier(filed.id, 3) == first_try.id
    assert Dossier.objects.filter(procedure_code="1.011921").count() == 1


def test_a_refused_birth_registration_stops_the_later_steps(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    first = step_dossier(filed.id, 1)
    desk = family.desks[family.world.commune.pk]
    act(desk.receiver, first, "receive")
    act(desk.approver, first, "reject", note="Giấy chứng sinh không hợp lệ")
    services.package_advance(filed.id)

    view = selectors.package_detail(actor=as_citizen(family.mother), package_id=filed.id)
    assert view.status == PackageStatus.STOPPED
    assert [s.status for s in view.steps] == ["refused", "stopped", "stopped"]
    assert view.failed_step is not None
    assert view.failed_step.reason == "Giấy chứng sinh không hợp lệ"
    assert view.failed_step.procedure_name in view.steps[1].reason
    assert Dossier.objects.count() == 1  # no residence, no card for a child never registered


def test_another_citizens_package_is_not_found(family: Family) -> None:
    filed = birth_package(family)
    stranger = make_citizen(full_name="Phạm Văn Lạ", sex="M")
    with pytest.raises(NotFound):
        selectors.package_detail(actor=as_citizen(stranger), package_id=filed.id)
    with pytest.raises(NotFound):
        services.package_withdraw(actor=as_citizen(stranger), package_id=filed.id)


def test_a_father_without_a_wife_on_record_is_told_to_file_separately(family: Family) -> None:
    single = make_citizen(full_name="Đỗ Văn Độc", sex="M", birth_date=date(1990, 1, 1))
    with pytest.raises(ValidationFailed) as caught:
        services.package_submit(
            actor=as_citizen(single),
            submission=services.PackageSubmission(
                kind="birth",
                declaration={},
                steps=(),
                idempotency_key=uuid.uuid4().hex,
            ),
            eid_level=2,
        )
    assert "applicant" in caught.value.errors
    assert Package.objects.count() == 0


def test_a_birth_in_the_future_is_refused_at_submission_and_nothing_is_written(
    family: Family,
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationFailed) as caught:
        birth_package(family, ngay_sinh=tomorrow)
    assert "declaration.ngay_sinh" in caught.value.errors
    assert Package.objects.count() == 0 and Dossier.objects.count() == 0


def test_papers_missing_past_the_groups_deadline_refuse_the_step(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    drive(family, step_dossier(filed.id, 1))
    services.package_advance(filed.id)
    residence = step_dossier(filed.id, 2)
    desk = family.desks[family.world.police.pk]
    drive(family, residence, until="start")
    act(desk.processor, residence, "request_supplement", note="Thiếu văn bản đồng ý của chủ hộ")
    Dossier.objects.filter(pk=residence).update(
        paused_on=working_days_before(timezone.localdate(), 8)
    )
    services.packages_sweep()
    services.package_advance(filed.id)
    assert Dossier.objects.get(pk=residence).status == "rejected"
    statuses = {s.position: s.status for s in steps_of(filed.id)}
    assert statuses[2] == StepStatus.REFUSED


def test_withdrawing_a_package_withdraws_its_open_steps(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    services.package_withdraw(actor=as_citizen(family.mother), package_id=filed.id)
    assert Package.objects.get(pk=filed.id).status == PackageStatus.WITHDRAWN
    assert Dossier.objects.get(pk=step_dossier(filed.id, 1)).status == "withdrawn"


# --- the death package ----------------------------------------------------------------------------


def test_a_death_package_records_the_death_deletes_the_residence_and_pays_the_allowance(
    family: Family,
) -> None:
    insured_register(
        actor=SYSTEM, pin=family.father.pin, standing="pensioner", since=date(2015, 1, 1)
    )
    filed = death_package(
        family, deceased=family.father, steps=("death", "residence_delete", "funeral")
    )
    services.package_advance(filed.id)
    drive(family, step_dossier(filed.id, 1))
    services.package_advance(filed.id)
    deletion, allowance = step_dossier(filed.id, 2), step_dossier(filed.id, 3)
    assert Dossier.objects.get(pk=allowance).agency.kind == "social_insurance"
    drive(family, deletion)
    drive(family, allowance)
    services.package_advance(filed.id)

    assert Package.objects.get(pk=filed.id).status == PackageStatus.COMPLETED
    father = citizen_get(actor=SYSTEM, pin=family.father.pin, purpose=READ)
    assert father.status == "deceased"
    assert not [r for r in father.residences if r.kind == "permanent" and r.valid_to is None]
    decisions = benefit_decisions_of(actor=SYSTEM, pin=family.father.pin, purpose=READ)
    assert [d.kind for d in decisions] == ["funeral"]


def test_the_benefit_step_goes_to_social_assistance_for_an_allowance_recipient(
    family: Family,
) -> None:
    grandmother = make_citizen(full_name="Lê Thị Bà", sex="F", birth_date=date(1938, 2, 2))
    Citizen.objects.filter(pk=family.mother.pin).update(mother_pin=grandmother.pin)
    recipient_register(
        actor=SYSTEM, pin=grandmother.pin, category="elderly_80", since=date(2025, 1, 1)
    )
    filed = death_package(family, deceased=grandmother, steps=("death", "funeral"), relation="con")
    services.package_advance(filed.id)
    drive(family, step_dossier(filed.id, 1))
    services.package_advance(filed.id)
    assert Dossier.objects.get(pk=step_dossier(filed.id, 3)).agency.kind == "labour_department"


def test_a_funeral_allowance_for_someone_nobody_pays_is_refused_at_submission(
    family: Family,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        death_package(family, deceased=family.father, steps=("death", "funeral"))
    assert "steps.funeral" in caught.value.errors
    assert Package.objects.count() == 0


def test_a_death_package_needs_two_steps_at_least(family: Family) -> None:
    with pytest.raises(ValidationFailed) as caught:
        death_package(family, deceased=family.father, steps=("death",))
    assert "steps" in caught.value.errors


def test_a_refused_death_registration_never_deletes_a_living_persons_residence(
    family: Family,
) -> None:
    filed = death_package(family, deceased=family.father, steps=("death", "residence_delete"))
    services.package_advance(filed.id)
    first = step_dossier(filed.id, 1)
    desk = family.desks[family.world.commune.pk]
    act(desk.receiver, first, "receive")
    act(desk.approver, first, "reject", note="Giấy báo tử không khớp")
    services.package_advance(filed.id)
    father = citizen_get(actor=SYSTEM, pin=family.father.pin, purpose=READ)
    assert father.status == "living"
    assert [r for r in father.residences if r.kind == "permanent" and r.valid_to is None]
    assert [s.status for s in steps_of(filed.id)] == ["refused", "stopped"]
