"""Writes of the social-assistance sector.

Each service checks the actor's permission, reads the registry (and the social-insurance
sector) only through their selectors, reports every rule it refuses as a field error with
nothing written, and writes its change and an audit row in one transaction. The transaction is
not durable: a dossier step calls these services inside its own transaction. A repeat with the
same non-empty `reference` (the dossier's code) returns the first outcome and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.benefits.models import (
    Category,
    DecisionKind,
    EndReason,
    RateKey,
    Recipient,
    SupportDecision,
)
from motcua.benefits.selectors import (
    SupportDecisionView,
    category_label,
    decision_view,
    rate_on,
    recipient_view,
)
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import NotFound, ValidationFailed
from motcua.core.sequences import sequence_next
from motcua.insurance.selectors import insurance_standing
from motcua.registry.selectors import CitizenRecord, age_from_partial_date, citizen_get

REGISTER_PERMISSION = "benefits.add_recipient"
STOP_PERMISSION = "benefits.change_recipient"
DECIDE_PERMISSION = "benefits.add_supportdecision"
DECISION_SUFFIX = "QĐ-TGXH"

REGISTER_PURPOSE = gettext_noop("Xét hưởng trợ cấp xã hội hằng tháng")
FUNERAL_PURPOSE = gettext_noop("Giải quyết hỗ trợ chi phí mai táng")

# Ages on the first day of the allowance: (at least, under), None for no bound
# (Nghị định 20/2021 Điều 5: children under 16; the elderly from 60; the second group from 80).
AGES: dict[str, tuple[int | None, int | None]] = {
    Category.ORPHAN_UNDER_4: (None, 4),
    Category.ORPHAN: (4, 16),
    Category.ELDERLY_POOR_ALONE: (60, None),
    Category.ELDERLY_80: (80, None),
    Category.DISABLED_SEVERE: (None, None),
    Category.DISABLED_ESPECIALLY_SEVERE: (None, None),
    Category.SINGLE_PARENT_POOR: (16, None),
}


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


def _vnd(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _no_rate(field: str, day: date) -> ValidationFailed:
    return ValidationFailed(
        {
            field: _("Chưa có mức trợ giúp xã hội áp dụng cho ngày %(day)s")
            % {"day": f"{day:%d/%m/%Y}"}
        }
    )


def monthly_allowance_on(category: str, day: date) -> int | None:
    """The standard times the category's coefficient, in force on `day`."""
    standard = rate_on(RateKey.STANDARD, day)
    coefficient = rate_on(f"coefficient:{category}", day)
    if standard is None or coefficient is None:
        return None
    return _vnd(standard * coefficient)


@transaction.atomic
def recipient_register(*, actor: Actor, pin: str, category: str, since: date) -> None:
    """Record that a living person receives the monthly social allowance of `category` from
    `since`, at the standard times the category's coefficient. The same registration repeated
    changes nothing; a person already receiving under another category is refused."""
    actor.require(REGISTER_PERMISSION)
    if category not in Category.values:
        raise ValidationFailed({"category": _("Chọn diện hưởng trợ cấp xã hội")})
    _lock("benefits.person", pin)
    existing = Recipient.objects.select_for_update().filter(pin=pin).first()
    active = existing is not None and existing.ended_on is None
    if active and existing and (existing.category, existing.since) == (category, since):
        return  # recorded already: nothing read, nothing written
    person = _person(actor, pin, field="pin", purpose=REGISTER_PURPOSE)
    if active and existing:
        raise ValidationFailed(
            {
                "category": _("%(full_name)s đang hưởng trợ cấp theo diện %(category)s")
                % {"full_name": person.full_name, "category": category_label(existing.category)}
            }
        )
    errors = _eligibility_errors(person, category, since)
    allowance = monthly_allowance_on(category, since)
    if allowance is None and not errors:
        raise _no_rate("since", since)
    if errors:
        raise ValidationFailed(errors)
    assert allowance is not None
    before = None
    if existing is None:
        existing = Recipient(pin=pin)
    else:
        before = {"category": existing.category, "ended_on": str(existing.ended_on)}
    existing.category, existing.since, existing.monthly_allowance = category, since, allowance
    existing.ended_on, existing.end_reason, existing.end_note, existing.end_reference = (
        None, "", "", ""
    )  # fmt: skip
    existing.save()
    audit_record(
        actor=actor,
        action="benefits.recipient_register",
        object_type="benefits.recipient",
        object_id=pin,
        before=before,
        after={"category": category, "since": since.isoformat(), "monthly_allowance": allowance},
    )


def _eligibility_errors(person: CitizenRecord, category: str, since: date) -> dict[str, str]:
    if person.status != "living":
        return {"pin": _("%(full_name)s đã mất") % {"full_name": person.full_name}}
    at_least, under = AGES[category]
    age = age_from_partial_date(person.birth_date, on=since)
    if (at_least is not None and age < at_least) or (under is not None and age >= under):
        return {
            "category": _("%(full_name)s %(age)s tuổi, không thuộc diện %(category)s")
            % {"full_name": person.full_name, "age": age, "category": category_label(category)}
        }
    if category == Category.ELDERLY_80 and insurance_standing(person.pin) == "pensioner":
        return {
            "category": _("%(full_name)s đang hưởng lương hưu, trợ cấp BHXH hằng tháng")
            % {"full_name": person.full_name}
        }
    return {}


def _stop(
    recipient: Recipient, *, actor: Actor, on: date, reason: str, note: str, reference: str
) -> None:
    before = {"ended_on": None}
    recipient.ended_on, recipient.end_reason = on, reason
    recipient.end_note, recipient.end_reference = note, reference
    recipient.save(update_fields=["ended_on", "end_reason", "end_note", "end_reference"])
    audit_record(
        actor=actor,
        action="benefits.allowance_stop",
        object_type="benefits.recipient",
        object_id=recipient.pin,
        reason=" — ".join(filter(None, [reference, note])),
        before=before,
        after={"ended_on": on.isoformat(), "end_reason": reason},
    )


@transaction.atomic
def allowance_stop(*, actor: Actor, pin: str, on: date, reason: str, reference: str = "") -> None:
    """Stop a person's monthly allowance from `on` (the last day paid). `reason` is one of
    EndReason's codes ("death", "moved", "not_eligible", "other") or, as "other", words of
    its own. Repeating the same stop (same reference, or same day and reason) changes nothing."""
    actor.require(STOP_PERMISSION)
    reference = reference.strip()
    code, note = (reason, "") if reason in EndReason.values else (EndReason.OTHER, reason.strip())
    if not note and code == EndReason.OTHER:
        raise ValidationFailed({"reason": _("Nêu lý do thôi hưởng")})
    _lock("benefits.person", pin)
    recipient = Recipient.objects.select_for_update().filter(pin=pin).first()
    if recipient is None:
        raise ValidationFailed({"pin": _("Người này không hưởng trợ cấp xã hội hằng tháng")})
    if recipient.ended_on is not None:
        if (reference and recipient.end_reference == reference) or (
            (recipient.ended_on, recipient.end_reason, recipient.end_note) == (on, code, note)
        ):
            return
        raise ValidationFailed(
            {
                "pin": _("Đã thôi hưởng trợ cấp từ %(ended_on)s")
                % {"ended_on": f"{recipient.ended_on:%d/%m/%Y}"}
            }
        )
    if on < recipient.since:
        raise ValidationFailed(
            {
                "on": _("Ngày thôi hưởng trước ngày bắt đầu hưởng %(since)s")
                % {"since": f"{recipient.since:%d/%m/%Y}"}
            }
        )
    _stop(recipient, actor=actor, on=on, reason=code, note=note, reference=reference)


@transaction.atomic
def funeral_support_decide(
    *,
    actor: Actor,
    deceased_pin: str,
    beneficiary_pin: str,
    decided_on: date,
    reference: str = "",
) -> SupportDecisionView:
    """The funeral support (hỗ trợ chi phí mai táng) for a recipient of the monthly allowance who
    died, paid to whoever arranged the funeral; the allowance ends at the death, recorded."""
    actor.require(DECIDE_PERMISSION)
    reference = reference.strip()
    kind = DecisionKind.FUNERAL
    if reference:
        _lock("benefits.decision", kind, reference)
        first = SupportDecision.objects.filter(reference=reference, kind=kind).first()
        if first is not None:
            if (first.deceased_pin, first.beneficiary_pin) != (deceased_pin, beneficiary_pin):
                raise ValidationFailed(
                    {
                        "reference": _("Hồ sơ %(reference)s đã được giải quyết cho người khác")
                        % {"reference": reference}
                    }
                )
            return decision_view(first)
    deceased = _person(actor, deceased_pin, field="deceased_pin", purpose=FUNERAL_PURPOSE)
    beneficiary = _person(actor, beneficiary_pin, field="beneficiary_pin", purpose=FUNERAL_PURPOSE)
    _lock("benefits.person", deceased_pin)
    recipient = Recipient.objects.select_for_update().filter(pin=deceased_pin).first()
    death_date = deceased.death_date
    errors: dict[str, str] = {}
    if deceased.status != "deceased" or death_date is None:
        errors["deceased_pin"] = _(
            "%(full_name)s chưa được ghi nhận đã mất trong Cơ sở dữ liệu quốc gia về dân cư"
        ) % {"full_name": deceased.full_name}
    elif recipient is None or not recipient_view(recipient).receiving_on(death_date):
        errors["deceased_pin"] = _(
            "%(full_name)s không hưởng trợ cấp xã hội hằng tháng khi mất"
        ) % {"full_name": deceased.full_name}
    elif earlier := SupportDecision.objects.filter(deceased_pin=deceased_pin, kind=kind).first():
        errors["deceased_pin"] = _(
            "Đã có quyết định số %(number)s hỗ trợ mai táng %(full_name)s"
        ) % {
            "number": earlier.number,
            "full_name": deceased.full_name,
        }
    elif decided_on < death_date:
        errors["decided_on"] = _("Ngày quyết định trước ngày mất %(death_date)s") % {
            "death_date": f"{death_date:%d/%m/%Y}"
        }
    if beneficiary_pin == deceased_pin:
        errors["beneficiary_pin"] = _("Người nhận là người lo mai táng, không phải người đã mất")
    elif beneficiary.status != "living":
        errors["beneficiary_pin"] = _("%(full_name)s đã mất; không thể nhận hỗ trợ") % {
            "full_name": beneficiary.full_name
        }
    if errors:
        raise ValidationFailed(errors)
    assert recipient is not None and death_date is not None
    standard = rate_on(RateKey.STANDARD, death_date)
    times = rate_on(RateKey.FUNERAL_MULTIPLIER, death_date)
    if standard is None or times is None:
        raise _no_rate("deceased_pin", death_date)
    year = decided_on.year
    decision = SupportDecision.objects.create(
        kind=kind,
        number=f"{sequence_next(f'benefits.decision:{year}')}/{year}/{DECISION_SUFFIX}",
        deceased_pin=deceased_pin,
        beneficiary_pin=beneficiary_pin,
        death_date=death_date,
        amount=_vnd(standard * times),
        basis={"standard": str(standard), "multiplier": str(times)},
        decided_on=decided_on,
        decided_at=datetime.now(UTC),
        reference=reference,
    )
    audit_record(
        actor=actor,
        action="benefits.funeral_support_decide",
        object_type="benefits.supportdecision",
        object_id=str(decision.pk),
        reason=reference,
        after={
            "number": decision.number,
            "deceased_pin": deceased_pin,
            "beneficiary_pin": beneficiary_pin,
            "amount": decision.amount,
            "basis": decision.basis,
        },
    )
    if recipient.ended_on is None:
        _stop(
            recipient,
            actor=actor,
            on=death_date,
            reason=EndReason.DEATH,
            note="",
            reference=reference,
        )
    return decision_view(decision)


@transaction.atomic
def benefits_demo_seed(
    *, actor: Actor, pins: list[str], since: date, category: str = Category.ELDERLY_80
) -> int:
    """The demo's recipients in bulk (PINs from the demo's own registry, not read one by one,
    so no age check); people already recorded are left as they are. Returns how many were
    added."""
    actor.require(REGISTER_PERMISSION)
    if category not in Category.values:
        raise ValidationFailed({"category": _("Chọn diện hưởng trợ cấp xã hội")})
    allowance = monthly_allowance_on(category, since)
    if allowance is None:
        raise _no_rate("since", since)
    known = set(Recipient.objects.filter(pin__in=pins).values_list("pin", flat=True))
    new = [pin for pin in dict.fromkeys(pins) if pin not in known]
    if not new:
        return 0
    Recipient.objects.bulk_create(
        [
            Recipient(pin=pin, category=category, monthly_allowance=allowance, since=since)
            for pin in new
        ]
    )
    audit_record(
        actor=actor,
        action="benefits.demo_seed",
        object_type="benefits.recipient",
        object_id=f"{len(new)} people",
        after={"category": category, "since": since.isoformat(), "monthly_allowance": allowance},
    )
    return len(new)
