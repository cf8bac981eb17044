"""Writes of the social-insurance sector.

Each service checks the actor's permission, reads the registry only through its selectors,
reports every rule it refuses as a field error with nothing written, and writes its change and
an audit row in one transaction. The transaction is not durable: a dossier step calls these
services inside its own transaction, so the step and the sector's decision commit together.
A repeat with the same non-empty `reference` (the dossier's code) returns the first outcome and
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import NotFound, ValidationFailed
from motcua.core.sequences import sequence_next
from motcua.insurance.cards import (
    CHILD_BENEFIT_LEVEL,
    NUMBER,
    card_code,
    child_card_valid_to,
    insurance_number_random,
    province_of_pin,
    sixth_birthday,
)
from motcua.insurance.models import (
    BenefitDecision,
    CardGroup,
    CardStatus,
    DecisionKind,
    EndReason,
    HealthCard,
    InsuranceNumber,
    InsuredPerson,
    Standing,
)
from motcua.insurance.rates import (
    Amount,
    NoRate,
    funeral_amount,
    survivor_monthly_amount,
    survivor_monthly_min_years,
    survivor_one_time_amount,
    whole_years,
)
from motcua.insurance.selectors import (
    BenefitDecisionView,
    HealthCardView,
    card_view,
    decision_view,
    standing_on,
)
from motcua.registry.selectors import CitizenRecord, PartialDate, citizen_get

ISSUE_PERMISSION = "insurance.add_healthcard"
DECIDE_PERMISSION = "insurance.add_benefitdecision"
REGISTER_PERMISSION = "insurance.add_insuredperson"
NUMBER_ATTEMPTS = 20
DEFAULT_FACILITY = gettext_noop("Trạm y tế xã, phường nơi cư trú")
DECISION_SUFFIX = "QĐ-BHXH"

CARD_PURPOSE = gettext_noop("Cấp thẻ BHYT cho trẻ em dưới 6 tuổi")
BENEFIT_PURPOSE = gettext_noop("Giải quyết chế độ tử tuất")
REGISTER_PURPOSE = gettext_noop("Ghi nhận người tham gia, hưởng BHXH")


# --- shared steps -------------------------------------------------------------------------------


def _lock(*parts: str) -> None:
    """Serialise callers on one key (a reference, a person) until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [":".join(parts)])


def _person(actor: Actor, pin: str, *, field: str, purpose: str) -> CitizenRecord:
    """The registry's record, with "no such person" as an error beside the field."""
    try:
        return citizen_get(actor=actor, pin=pin, purpose=purpose)
    except NotFound as error:
        raise ValidationFailed({field: error.message}) from None
    except ValidationFailed as error:
        raise ValidationFailed({field: next(iter(error.errors.values()), error.message)}) from None


def _insurance_number(pin: str) -> str:
    """The person's social-insurance number, given now if they have none."""
    existing = InsuranceNumber.objects.filter(pin=pin).values_list("number", flat=True).first()
    if existing:
        return existing
    for _attempt in range(NUMBER_ATTEMPTS):
        number = insurance_number_random(province_of_pin(pin))
        try:
            with transaction.atomic():
                InsuranceNumber.objects.create(pin=pin, number=number, issued_at=datetime.now(UTC))
            return number
        except IntegrityError:
            continue
    raise RuntimeError("no free social-insurance number found")


def _refused_reference(reference: str) -> ValidationFailed:
    return ValidationFailed(
        {
            "reference": _("Hồ sơ %(reference)s đã được giải quyết cho người khác")
            % {"reference": reference}
        }
    )


# --- health-insurance cards ---------------------------------------------------------------------


@transaction.atomic
def health_card_issue(
    *, actor: Actor, pin: str, valid_from: date, reference: str = "", facility: str = ""
) -> HealthCardView:
    """Issue a free health-insurance card (group TE) to a living child under 6 on `valid_from`,
    valid from then (not before the birth) to the end given by `cards.child_card_valid_to`."""
    actor.require(ISSUE_PERMISSION)
    reference = reference.strip()
    if reference:
        _lock("insurance.card", reference)
        first = HealthCard.objects.filter(reference=reference).first()
        if first is not None:
            if first.pin != pin:
                raise _refused_reference(reference)
            return card_view(first)
    child = _person(actor, pin, field="pin", purpose=CARD_PURPOSE)
    _lock("insurance.person", pin)
    birth = PartialDate.parse(child.birth_date)
    errors: dict[str, str] = {}
    if child.status != "living":
        errors["pin"] = _("%(full_name)s đã mất; không cấp thẻ BHYT") % {
            "full_name": child.full_name
        }
    elif birth.precision != "day":
        errors["pin"] = _("Chưa có ngày sinh đầy đủ của %(full_name)s") % {
            "full_name": child.full_name
        }
    elif valid_from < birth.value:
        errors["valid_from"] = _("Ngày hiệu lực %(valid_from)s trước ngày sinh %(birth)s") % {
            "valid_from": f"{valid_from:%d/%m/%Y}",
            "birth": f"{birth.value:%d/%m/%Y}",
        }
    elif valid_from >= sixth_birthday(birth.value):
        errors["pin"] = _("%(full_name)s đã đủ 6 tuổi ngày %(birthday)s") % {
            "full_name": child.full_name,
            "birthday": f"{sixth_birthday(birth.value):%d/%m/%Y}",
        }
    elif current := HealthCard.objects.filter(
        pin=pin, group=CardGroup.CHILD, status=CardStatus.ACTIVE
    ).first():
        errors["pin"] = _("%(full_name)s đã có thẻ BHYT %(code)s") % {
            "full_name": child.full_name,
            "code": current.code,
        }
    if errors:
        raise ValidationFailed(errors)
    number = _insurance_number(pin)
    card = HealthCard.objects.create(
        code=card_code(
            group=CardGroup.CHILD,
            level=CHILD_BENEFIT_LEVEL,
            province=province_of_pin(pin),
            number=number,
        ),
        pin=pin,
        group=CardGroup.CHILD,
        valid_from=valid_from,
        valid_to=child_card_valid_to(birth.value),
        facility=facility.strip() or DEFAULT_FACILITY,
        issued_at=datetime.now(UTC),
        reference=reference,
    )
    audit_record(
        actor=actor,
        action="insurance.health_card_issue",
        object_type="insurance.healthcard",
        object_id=str(card.pk),
        reason=reference,
        after={
            "pin": pin,
            "code": card.code,
            "valid_from": card.valid_from.isoformat(),
            "valid_to": card.valid_to.isoformat(),
            "facility": card.facility,
        },
    )
    return card_view(card)


# --- death benefits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Death:
    deceased: CitizenRecord
    death_date: date
    insured: InsuredPerson
    standing: str


def _death_checked(
    actor: Actor, *, deceased_pin: str, beneficiary_pin: str, decided_on: date
) -> _Death:
    deceased = _person(actor, deceased_pin, field="deceased_pin", purpose=BENEFIT_PURPOSE)
    beneficiary = _person(actor, beneficiary_pin, field="beneficiary_pin", purpose=BENEFIT_PURPOSE)
    _lock("insurance.person", deceased_pin)
    errors: dict[str, str] = {}
    insured = InsuredPerson.objects.select_for_update().filter(pin=deceased_pin).first()
    death_date = deceased.death_date
    if deceased.status != "deceased" or death_date is None:
        errors["deceased_pin"] = _(
            "%(full_name)s chưa được ghi nhận đã mất trong Cơ sở dữ liệu quốc gia về dân cư"
        ) % {"full_name": deceased.full_name}
    elif insured is None or standing_on(insured, death_date) is None:
        errors["deceased_pin"] = _(
            "%(full_name)s không tham gia BHXH, không hưởng lương hưu khi mất"
        ) % {"full_name": deceased.full_name}
    elif decided_on < death_date:
        errors["decided_on"] = _("Ngày quyết định trước ngày mất %(death_date)s") % {
            "death_date": f"{death_date:%d/%m/%Y}"
        }
    if beneficiary_pin == deceased_pin:
        errors["beneficiary_pin"] = _("Người nhận phải là thân nhân, không phải người đã mất")
    elif beneficiary.status != "living":
        errors["beneficiary_pin"] = _("%(full_name)s đã mất; không thể nhận trợ cấp") % {
            "full_name": beneficiary.full_name
        }
    if errors:
        raise ValidationFailed(errors)
    assert insured is not None and death_date is not None
    return _Death(deceased, death_date, insured, insured.standing)


def _end_standing_at_death(actor: Actor, death: _Death, reference: str) -> None:
    """The contribution or pension stops with the death; recorded once."""
    insured = death.insured
    if insured.ended_on is not None:
        return
    insured.ended_on, insured.end_reason = death.death_date, EndReason.DEATH
    insured.save(update_fields=["ended_on", "end_reason"])
    audit_record(
        actor=actor,
        action="insurance.standing_end",
        object_type="insurance.insuredperson",
        object_id=insured.pin,
        reason=reference,
        before={"ended_on": None},
        after={"ended_on": death.death_date.isoformat(), "end_reason": EndReason.DEATH},
    )


def _decide(
    *,
    actor: Actor,
    kind: str,
    deceased_pin: str,
    beneficiary_pin: str,
    decided_on: date,
    reference: str,
) -> BenefitDecisionView:
    actor.require(DECIDE_PERMISSION)
    reference = reference.strip()
    if reference:
        _lock("insurance.decision", kind, reference)
        first = BenefitDecision.objects.filter(reference=reference, kind=kind).first()
        if first is not None:
            if (first.deceased_pin, first.beneficiary_pin) != (deceased_pin, beneficiary_pin):
                raise _refused_reference(reference)
            return decision_view(first)
    death = _death_checked(
        actor, deceased_pin=deceased_pin, beneficiary_pin=beneficiary_pin, decided_on=decided_on
    )
    _refuse_twice(kind, death, beneficiary_pin)
    amount = _amount(kind, death)
    year = decided_on.year
    decision = BenefitDecision.objects.create(
        kind=kind,
        number=f"{sequence_next(f'insurance.decision:{year}')}/{year}/{DECISION_SUFFIX}",
        deceased_pin=deceased_pin,
        beneficiary_pin=beneficiary_pin,
        death_date=death.death_date,
        amount=amount.amount,
        basis={"standing": death.standing, **amount.basis},
        decided_on=decided_on,
        decided_at=datetime.now(UTC),
        reference=reference,
    )
    audit_record(
        actor=actor,
        action=f"insurance.{kind}_decide",
        object_type="insurance.benefitdecision",
        object_id=str(decision.pk),
        reason=reference,
        after={
            "number": decision.number,
            "kind": kind,
            "deceased_pin": deceased_pin,
            "beneficiary_pin": beneficiary_pin,
            "amount": decision.amount,
            "basis": decision.basis,
        },
    )
    _end_standing_at_death(actor, death, reference)
    return decision_view(decision)


def _refuse_twice(kind: str, death: _Death, beneficiary_pin: str) -> None:
    """The funeral allowance and the one-time survivor benefit are paid once per death; the
    one-time and the monthly survivor benefit exclude each other; monthly once per relative."""
    decisions = BenefitDecision.objects.filter(deceased_pin=death.deceased.pin)
    if kind == DecisionKind.FUNERAL:
        earlier = decisions.filter(kind=kind).first()
    elif kind == DecisionKind.SURVIVOR_ONE_TIME:
        earlier = decisions.filter(
            kind__in=[DecisionKind.SURVIVOR_ONE_TIME, DecisionKind.SURVIVOR_MONTHLY]
        ).first()
    else:
        earlier = (
            decisions.filter(kind=DecisionKind.SURVIVOR_ONE_TIME).first()
            or decisions.filter(kind=kind, beneficiary_pin=beneficiary_pin).first()
        )
    if earlier is not None:
        raise ValidationFailed(
            {
                "deceased_pin": _("Đã có quyết định số %(number)s về %(kind)s cho %(full_name)s")
                % {
                    "number": earlier.number,
                    "kind": decision_view(earlier).kind_label,
                    "full_name": death.deceased.full_name,
                }
            }
        )


def _amount(kind: str, death: _Death) -> Amount:
    try:
        if kind == DecisionKind.FUNERAL:
            return funeral_amount(death_date=death.death_date)
        if kind == DecisionKind.SURVIVOR_MONTHLY:
            years = whole_years(death.insured.since, death.death_date)
            needed = survivor_monthly_min_years(death.death_date)
            if death.standing != Standing.PENSIONER and years < needed:
                raise ValidationFailed(
                    {
                        "kind": _(
                            "Tuất hằng tháng cần đóng BHXH đủ %(needed)s năm (đã đóng %(years)s năm)"
                        )
                        % {"needed": needed, "years": years}
                    }
                )
            return survivor_monthly_amount(death_date=death.death_date)
        return survivor_one_time_amount(
            standing=death.standing,
            since=death.insured.since,
            death_date=death.death_date,
            monthly_basis=death.insured.monthly_basis,
        )
    except NoRate:
        raise ValidationFailed(
            {
                "deceased_pin": _("Chưa có mức trợ cấp áp dụng cho ngày mất %(death_date)s")
                % {"death_date": f"{death.death_date:%d/%m/%Y}"}
            }
        ) from None


@transaction.atomic
def funeral_allowance_decide(
    *,
    actor: Actor,
    deceased_pin: str,
    beneficiary_pin: str,
    decided_on: date,
    reference: str = "",
) -> BenefitDecisionView:
    """The funeral allowance (trợ cấp mai táng) for an insured person or pensioner who died:
    10 times the base salary of the month of death, to whoever arranged the funeral."""
    return _decide(
        actor=actor,
        kind=DecisionKind.FUNERAL,
        deceased_pin=deceased_pin,
        beneficiary_pin=beneficiary_pin,
        decided_on=decided_on,
        reference=reference,
    )


@transaction.atomic
def survivor_benefit_decide(
    *,
    actor: Actor,
    deceased_pin: str,
    beneficiary_pin: str,
    decided_on: date,
    reference: str = "",
    kind: str = DecisionKind.SURVIVOR_ONE_TIME,
) -> BenefitDecisionView:
    """The survivor benefit (trợ cấp tuất), one-time by default: the relatives confirm one
    representative (QĐ 1449/QĐ-BHXH), who is the beneficiary. `kind="survivor_monthly"` for a
    relative's monthly benefit. The amounts are simplified (see data/rates.json)."""
    if kind not in (DecisionKind.SURVIVOR_ONE_TIME, DecisionKind.SURVIVOR_MONTHLY):
        raise ValidationFailed({"kind": _("Không có chế độ tuất này")})
    return _decide(
        actor=actor,
        kind=kind,
        deceased_pin=deceased_pin,
        beneficiary_pin=beneficiary_pin,
        decided_on=decided_on,
        reference=reference,
    )


# --- who is insured -----------------------------------------------------------------------------


@transaction.atomic
def insured_register(
    *,
    actor: Actor,
    pin: str,
    standing: str,
    since: date,
    monthly_basis: int | None = None,
) -> None:
    """Record that a person is insured or a pensioner from `since` (a pensioner who was insured
    moves to the new standing). Repeating the same registration changes nothing."""
    actor.require(REGISTER_PERMISSION)
    errors: dict[str, str] = {}
    if standing not in Standing.values:
        errors["standing"] = _("Chọn diện tham gia hoặc hưởng BHXH")
    if monthly_basis is not None and monthly_basis <= 0:
        errors["monthly_basis"] = _("Mức tiền lương, lương hưu phải lớn hơn 0")
    if errors:
        raise ValidationFailed(errors)
    _lock("insurance.person", pin)
    existing = InsuredPerson.objects.select_for_update().filter(pin=pin).first()
    after = {"standing": standing, "since": since.isoformat(), "monthly_basis": monthly_basis}
    before = None
    if existing is not None:
        before = {
            "standing": existing.standing,
            "since": existing.since.isoformat(),
            "monthly_basis": existing.monthly_basis,
        }
        if before == after and existing.ended_on is None:
            return  # recorded already: nothing read, nothing written
    person = _person(actor, pin, field="pin", purpose=REGISTER_PURPOSE)
    if person.death_date is not None and since > person.death_date:
        raise ValidationFailed(
            {"since": _("%(full_name)s đã mất trước ngày này") % {"full_name": person.full_name}}
        )
    if existing is not None:
        if existing.end_reason == EndReason.DEATH:
            raise ValidationFailed(
                {"pin": _("%(full_name)s đã mất") % {"full_name": person.full_name}}
            )
        existing.standing, existing.since, existing.monthly_basis = standing, since, monthly_basis
        existing.ended_on, existing.end_reason = None, ""
        existing.save()
    else:
        InsuredPerson.objects.create(
            pin=pin, standing=standing, since=since, monthly_basis=monthly_basis
        )
    _insurance_number(pin)
    audit_record(
        actor=actor,
        action="insurance.insured_register",
        object_type="insurance.insuredperson",
        object_id=pin,
        before=before,
        after=after,
    )


@transaction.atomic
def insurance_demo_seed(
    *, actor: Actor, pins_insured: list[str], pins_pensioners: list[str], since: date
) -> int:
    """The demo's insured people and pensioners in bulk (PINs from the demo's own registry, not
    read one by one); people already recorded are left as they are. Returns how many were added."""
    actor.require(REGISTER_PERMISSION)
    wanted = {pin: Standing.INSURED for pin in pins_insured}
    wanted.update({pin: Standing.PENSIONER for pin in pins_pensioners})
    known = set(InsuredPerson.objects.filter(pin__in=list(wanted)).values_list("pin", flat=True))
    new = {pin: standing for pin, standing in wanted.items() if pin not in known}
    if not new:
        return 0
    InsuredPerson.objects.bulk_create(
        [InsuredPerson(pin=pin, standing=standing, since=since) for pin, standing in new.items()]
    )
    numbered = set(InsuranceNumber.objects.filter(pin__in=list(new)).values_list("pin", flat=True))
    _numbers_bulk([pin for pin in new if pin not in numbered])
    audit_record(
        actor=actor,
        action="insurance.demo_seed",
        object_type="insurance.insuredperson",
        object_id=f"{len(new)} people",
        after={"insured": sum(s == Standing.INSURED for s in new.values()), "since": since},
    )
    return len(new)


def _numbers_bulk(pins: list[str]) -> None:
    now = datetime.now(UTC)
    for _attempt in range(NUMBER_ATTEMPTS):
        if not pins:
            return
        drawn = {pin: insurance_number_random(province_of_pin(pin)) for pin in pins}
        taken = set(
            InsuranceNumber.objects.filter(number__in=list(drawn.values())).values_list(
                "number", flat=True
            )
        )
        fresh: dict[str, str] = {}
        for pin, number in drawn.items():
            if number not in taken:
                fresh[pin] = number
                taken.add(number)
        InsuranceNumber.objects.bulk_create(
            [InsuranceNumber(pin=pin, number=n, issued_at=now) for pin, n in fresh.items()]
        )
        pins = [pin for pin in pins if pin not in fresh]
    raise RuntimeError("no free social-insurance numbers found")


def insurance_number_valid(number: str) -> bool:
    """10 digits, as the sector gives them (for forms that take one)."""
    return bool(NUMBER.match(number))
