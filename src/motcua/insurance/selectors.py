"""Reads from the social-insurance sector. Results are plain dataclasses; a read of a person's
cards or decisions by someone other than that person leaves an access-log row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.errors import ValidationFailed
from motcua.insurance.models import (
    BenefitDecision,
    CardGroup,
    CardStatus,
    DecisionKind,
    EndReason,
    HealthCard,
    InsuredPerson,
    Standing,
)

VIEW_CARDS_PERMISSION = "insurance.view_healthcard"
VIEW_DECISIONS_PERMISSION = "insurance.view_benefitdecision"


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def money_label(amount: int) -> str:
    """23400000 -> "23.400.000 đ" (Vietnamese), "23,400,000 VND" (English)."""
    return _("%(amount)s đ") % {"amount": number_format(amount, decimal_pos=0, force_grouping=True)}


def standing_label(standing: str | None) -> str:
    return str(Standing(standing).label) if standing in Standing.values else ""


def decision_kind_label(kind: str) -> str:
    return str(DecisionKind(kind).label) if kind in DecisionKind.values else kind


@dataclass(frozen=True)
class HealthCardView:
    code: str
    pin: str
    group: str
    valid_from: date
    valid_to: date
    facility: str
    issued_at: datetime
    reference: str
    status: str

    @property
    def group_label(self) -> str:
        return str(CardGroup(self.group).label) if self.group in CardGroup.values else self.group

    @property
    def status_label(self) -> str:
        return str(CardStatus(self.status).label) if self.status in CardStatus.values else ""

    @property
    def facility_label(self) -> str:
        return _(self.facility) if self.facility else ""

    @property
    def valid_from_label(self) -> str:
        return _day(self.valid_from)

    @property
    def valid_to_label(self) -> str:
        return _day(self.valid_to)

    @property
    def label(self) -> str:
        """ "Thẻ BHYT TE1822012345678, hiệu lực đến 14/05/2032"."""
        return _("Thẻ BHYT %(code)s, hiệu lực đến %(valid_to)s") % {
            "code": self.code,
            "valid_to": self.valid_to_label,
        }


@dataclass(frozen=True)
class BenefitDecisionView:
    number: str
    kind: str
    deceased_pin: str
    beneficiary_pin: str
    death_date: date
    amount: int
    decided_on: date
    reference: str

    @property
    def kind_label(self) -> str:
        return decision_kind_label(self.kind)

    @property
    def amount_label(self) -> str:
        if self.kind == DecisionKind.SURVIVOR_MONTHLY:
            return _("%(amount)s mỗi tháng") % {"amount": money_label(self.amount)}
        return money_label(self.amount)

    @property
    def decided_on_label(self) -> str:
        return _day(self.decided_on)

    @property
    def label(self) -> str:
        """ "Quyết định số 12/2026/QĐ-BHXH ngày 20/05/2026: trợ cấp mai táng 23.400.000 đ"."""
        return _("Quyết định số %(number)s ngày %(decided_on)s: %(kind)s %(amount)s") % {
            "number": self.number,
            "decided_on": self.decided_on_label,
            "kind": self.kind_label,
            "amount": self.amount_label,
        }


def card_view(card: HealthCard) -> HealthCardView:
    return HealthCardView(
        code=card.code,
        pin=card.pin,
        group=card.group,
        valid_from=card.valid_from,
        valid_to=card.valid_to,
        facility=card.facility,
        issued_at=card.issued_at,
        reference=card.reference,
        status=card.status,
    )


def decision_view(decision: BenefitDecision) -> BenefitDecisionView:
    return BenefitDecisionView(
        number=decision.number,
        kind=decision.kind,
        deceased_pin=decision.deceased_pin,
        beneficiary_pin=decision.beneficiary_pin,
        death_date=decision.death_date,
        amount=decision.amount,
        decided_on=decision.decided_on,
        reference=decision.reference,
    )


def standing_on(person: InsuredPerson, day: date) -> str | None:
    """The person's standing on `day`, None outside [since, ended_on]."""
    if person.since > day or (person.ended_on is not None and person.ended_on < day):
        return None
    return person.standing


def insurance_standing(pin: str, *, on: date | None = None) -> str | None:
    """ "insured", "pensioner" or None: which sector a death package's benefit step goes to.

    A routing decision by the platform, so no access-log row; it tells nothing beyond the
    standing. With `on`, the standing on that day. Without it, the current standing, or for a
    person whose standing ended with their death, the standing they had when they died."""
    person = InsuredPerson.objects.filter(pin=pin).only("standing", "since", "ended_on").first()
    if person is None:
        return None
    if on is not None:
        return standing_on(person, on)
    if person.ended_on is None or person.end_reason == EndReason.DEATH:
        return person.standing
    return None


def _may_read(actor: Actor, pin: str, purpose: str, permission: str) -> None:
    """A person may always read their own; anyone else needs the permission and a purpose."""
    if actor.pin == pin:
        return
    actor.require(permission)
    if len(purpose.strip()) < 3:
        raise ValidationFailed({"purpose": _("Phải nêu mục đích truy cập")})


def health_cards_of(*, actor: Actor, pin: str, purpose: str) -> list[HealthCardView]:
    """A person's health-insurance cards, the active first, newest first."""
    _may_read(actor, pin, purpose, VIEW_CARDS_PERMISSION)
    cards = HealthCard.objects.filter(pin=pin).order_by("status", "-valid_from", "-id")
    access_log_record(actor=actor, subject_pins=[pin], data="insurance.healthcard", purpose=purpose)
    return [card_view(card) for card in cards]


def benefit_decisions_of(*, actor: Actor, pin: str, purpose: str) -> list[BenefitDecisionView]:
    """The decisions about a person's death, or paying them as beneficiary, newest first."""
    _may_read(actor, pin, purpose, VIEW_DECISIONS_PERMISSION)
    decisions = BenefitDecision.objects.filter(Q(deceased_pin=pin) | Q(beneficiary_pin=pin))
    access_log_record(
        actor=actor, subject_pins=[pin], data="insurance.benefitdecision", purpose=purpose
    )
    return [decision_view(d) for d in decisions.order_by("-decided_on", "-id")]


def outcome_by_reference(reference: str) -> list[str]:
    """What the sector did for a dossier, in words (for the dossier's page, whose own read is
    logged by the dossier): the card issued, the decisions taken."""
    if not reference:
        return []
    cards = HealthCard.objects.filter(reference=reference).order_by("id")
    decisions = BenefitDecision.objects.filter(reference=reference).order_by("id")
    return [card_view(c).label for c in cards] + [decision_view(d).label for d in decisions]
