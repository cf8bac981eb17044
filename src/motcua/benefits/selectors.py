"""Reads from the social-assistance sector. Results are plain dataclasses; a read of a person's
decisions by someone other than that person leaves an access-log row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from motcua.benefits.models import (
    Category,
    DecisionKind,
    EndReason,
    Rate,
    Recipient,
    SupportDecision,
)
from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.errors import ValidationFailed

VIEW_DECISIONS_PERMISSION = "benefits.view_supportdecision"


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def money_label(amount: int) -> str:
    """500000 -> "500.000 đ" (Vietnamese), "500,000 VND" (English)."""
    return _("%(amount)s đ") % {"amount": number_format(amount, decimal_pos=0, force_grouping=True)}


def category_label(category: str) -> str:
    return str(Category(category).label) if category in Category.values else category


def rate_on(key: str, day: date) -> Decimal | None:
    """The rate of `key` in force on `day` (None before the table starts)."""
    row = Rate.objects.filter(key=key, valid_from__lte=day).order_by("-valid_from").first()
    return row.value if row else None


@dataclass(frozen=True)
class RecipientView:
    pin: str
    category: str
    monthly_allowance: int
    since: date
    ended_on: date | None
    end_reason: str

    def receiving_on(self, day: date) -> bool:
        """Whether the allowance runs on `day` (it runs up to and including `ended_on`)."""
        return self.since <= day and (self.ended_on is None or day <= self.ended_on)

    @property
    def receiving(self) -> bool:
        """Still receiving, or stopped only by their death (what routes a death package)."""
        return self.ended_on is None or self.end_reason == EndReason.DEATH

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def monthly_allowance_label(self) -> str:
        return _("%(amount)s mỗi tháng") % {"amount": money_label(self.monthly_allowance)}

    @property
    def end_reason_label(self) -> str:
        return str(EndReason(self.end_reason).label) if self.end_reason in EndReason.values else ""


@dataclass(frozen=True)
class SupportDecisionView:
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
        return str(DecisionKind(self.kind).label) if self.kind in DecisionKind.values else ""

    @property
    def amount_label(self) -> str:
        return money_label(self.amount)

    @property
    def decided_on_label(self) -> str:
        return _day(self.decided_on)

    @property
    def label(self) -> str:
        """ "Quyết định số 3/2026/QĐ-TGXH ngày 20/05/2026: hỗ trợ chi phí mai táng 25.000.000 đ"."""
        return _("Quyết định số %(number)s ngày %(decided_on)s: %(kind)s %(amount)s") % {
            "number": self.number,
            "decided_on": self.decided_on_label,
            "kind": self.kind_label,
            "amount": self.amount_label,
        }


def recipient_view(recipient: Recipient) -> RecipientView:
    return RecipientView(
        pin=recipient.pin,
        category=recipient.category,
        monthly_allowance=recipient.monthly_allowance,
        since=recipient.since,
        ended_on=recipient.ended_on,
        end_reason=recipient.end_reason,
    )


def decision_view(decision: SupportDecision) -> SupportDecisionView:
    return SupportDecisionView(
        number=decision.number,
        kind=decision.kind,
        deceased_pin=decision.deceased_pin,
        beneficiary_pin=decision.beneficiary_pin,
        death_date=decision.death_date,
        amount=decision.amount,
        decided_on=decision.decided_on,
        reference=decision.reference,
    )


def recipient_of(pin: str) -> RecipientView | None:
    """The person's allowance, current or ended (None if they never received one).

    Used by the platform to route a death package's benefit step (`RecipientView.receiving`),
    so no access-log row: a routing decision, not a read by a person."""
    recipient = Recipient.objects.filter(pin=pin).first()
    return recipient_view(recipient) if recipient else None


def support_decisions_of(*, actor: Actor, pin: str, purpose: str) -> list[SupportDecisionView]:
    """The decisions about a person's death, or paying them as beneficiary, newest first."""
    if actor.pin != pin:
        actor.require(VIEW_DECISIONS_PERMISSION)
        if len(purpose.strip()) < 3:
            raise ValidationFailed({"purpose": _("Phải nêu mục đích truy cập")})
    decisions = SupportDecision.objects.filter(Q(deceased_pin=pin) | Q(beneficiary_pin=pin))
    access_log_record(
        actor=actor, subject_pins=[pin], data="benefits.supportdecision", purpose=purpose
    )
    return [decision_view(d) for d in decisions.order_by("-decided_on", "-id")]


def outcome_by_reference(reference: str) -> list[str]:
    """What the sector did for a dossier, in words (for the dossier's page, whose own read is
    logged by the dossier): the decisions taken, the allowance stopped."""
    if not reference:
        return []
    decisions = SupportDecision.objects.filter(reference=reference).order_by("id")
    stopped = Recipient.objects.filter(end_reference=reference).order_by("id")
    return [decision_view(d).label for d in decisions] + [
        _("Thôi hưởng trợ cấp xã hội hằng tháng từ %(ended_on)s (%(reason)s)")
        % {"ended_on": _day(r.ended_on), "reason": recipient_view(r).end_reason_label}
        for r in stopped
        if r.ended_on
    ]
