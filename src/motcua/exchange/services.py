"""Writes of the exchange: partner portals and their webhook subscriptions; dossiers filed and
supplemented by a partner for a signed-in citizen; the outbox of status webhooks (scan, send).

A partner acts for the citizen: the dossiers app sees the citizen (and checks their rights and
e-ID level), the citizen's access log and the exchange's audit rows name the partner."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog.selectors import NATIONAL_CODES, Status
from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, NotFound, ValidationFailed
from motcua.core.text import nfc
from motcua.dossiers.selectors import (
    DossierEventRow,
    dossier_detail,
    dossier_events_since,
    dossier_id_by_code,
)
from motcua.dossiers.services import (
    PackageFiled,
    PackageSubmission,
    Step,
    Submission,
    Submitted,
    dossier_act,
    dossier_submit,
    package_submit,
)
from motcua.exchange import webhooks
from motcua.exchange.auth import CitizenCaller
from motcua.exchange.models import (
    Cursor,
    Delivery,
    DeliveryStatus,
    ExchangePartner,
    Filing,
    FilingKind,
    Subscription,
)
from motcua.identity.services import Credentials, NewParty, rp_add

MANAGE_PERMISSION = "exchange.add_exchangepartner"
SUBSCRIBE_PERMISSION = "exchange.add_subscription"
STATUS_CHANGED = "dossier.status_changed"
APPOINTMENT_CHANGED = "dossier.appointment_changed"
EVENT_TYPES = (STATUS_CHANGED, APPOINTMENT_CHANGED)
PARTNER_SCOPES = ("openid", "profile", "pin", "dossiers")
MAX_SUBSCRIPTIONS = 10

# The outbox: attempts and their spacing (30 s, 1 min, 2 min, ... at most 6 h apart).
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
LEASE = timedelta(seconds=60)  # a claimed delivery is not claimed again for this long
# The scan's cursor stays behind events younger than this: a step whose transaction commits
# after a later step's is still seen (the deliveries' uniqueness absorbs the re-reads).
SCAN_GRACE = timedelta(minutes=2)
CURSOR = "dossier_events"


# --- partners and subscriptions ------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerView:
    id: int
    name: str
    client_id: str
    active: bool


def exchange_partner_register(
    *, actor: Actor, name: str, redirect_uris: list[str], min_level: int = 1
) -> tuple[PartnerView, Credentials]:
    """A partner portal: registered with the provider as a relying party trusted with the PIN
    (citizens sign in to it with their e-ID), and with the exchange. The client secret is in
    the answer and nowhere else."""
    actor.require(MANAGE_PERMISSION)
    name = nfc(name).strip()
    if ExchangePartner.objects.filter(name=name).exists():
        raise Conflict(_("Đã có cổng đối tác %(name)s") % {"name": name})
    _party, credentials = rp_add(
        actor=actor,
        party=NewParty(
            name=name,
            redirect_uris=redirect_uris,
            scopes=list(PARTNER_SCOPES),
            pin_claim=True,
            min_level=min_level,
        ),
    )
    with transaction.atomic(durable=True):
        partner = ExchangePartner.objects.create(name=name, client_id=credentials.client_id)
        audit_record(
            actor=actor,
            action="exchange.partner_registered",
            object_type="exchange.exchangepartner",
            object_id=credentials.client_id,
            after={"name": name, "redirect_uris": redirect_uris, "min_level": min_level},
        )
    return PartnerView(partner.pk, partner.name, partner.client_id, partner.active), credentials


@dataclass(frozen=True)
class NewSubscription:
    id: int
    url: str
    events: list[str]
    secret: str  # shown once: only its sealed form is kept


def _may_manage(actor: Actor, partner: ExchangePartner) -> bool:
    return actor.can(SUBSCRIBE_PERMISSION) or (
        actor.kind == "partner" and actor.ref == partner.name
    )


def subscription_add(
    *, actor: Actor, partner_id: int, url: str, events: list[str] | None = None
) -> NewSubscription:
    """Where the partner wants its dossiers' status changes sent. The partner itself or an
    administrator; the URL must pass the webhook rule (webhooks.url_problem)."""
    partner = ExchangePartner.objects.filter(pk=partner_id, active=True).first()
    if partner is None or not _may_manage(actor, partner):
        raise NotFound(_("Không có cổng đối tác"))
    url = url.strip()
    chosen = list(dict.fromkeys(events or EVENT_TYPES))
    errors: dict[str, str] = {}
    if len(url) > 500:
        errors["url"] = _("Địa chỉ quá dài")
    elif problem := webhooks.url_problem(url):
        errors["url"] = problem
    if not chosen or set(chosen) - set(EVENT_TYPES):
        errors["events"] = _("Loại sự kiện hợp lệ: %(types)s") % {"types": ", ".join(EVENT_TYPES)}
    if Subscription.objects.filter(partner=partner, active=True).count() >= MAX_SUBSCRIPTIONS:
        errors["url"] = _("Mỗi cổng đối tác có tối đa %(n)s địa chỉ nhận") % {
            "n": MAX_SUBSCRIPTIONS
        }
    if errors:
        raise ValidationFailed(errors)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        subscription = Subscription.objects.create(
            partner=partner, url=url, events=chosen, secret_encrypted=webhooks.secret_seal(secret)
        )
        audit_record(
            actor=actor,
            action="exchange.subscription_added",
            object_type="exchange.subscription",
            object_id=str(subscription.pk),
            after={"partner": partner.name, "url": url, "events": chosen},
        )
    return NewSubscription(subscription.pk, url, chosen, secret)


def subscription_disable(*, actor: Actor, subscription_id: int) -> None:
    """No more deliveries to this address; pending ones stay unsent."""
    with transaction.atomic(durable=True):
        subscription = (
            Subscription.objects.select_for_update()
            .select_related("partner")
            .filter(pk=subscription_id, active=True)
            .first()
        )
        if subscription is None or not _may_manage(actor, subscription.partner):
            raise NotFound(_("Không có đăng ký nhận thông báo"))
        subscription.active = False
        subscription.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="exchange.subscription_disabled",
            object_type="exchange.subscription",
            object_id=str(subscription.pk),
            before={"active": True},
            after={"active": False},
        )


# --- acting for a citizen -------------------------------------------------------------------------


def _filed(caller: CitizenCaller, kind: str, code: str, created: bool) -> None:
    """Which partner filed what (its subscriptions get the status changes), with the audit row
    naming the partner and the citizen's access-log row. A retry finds the row of the first try."""
    partner = caller.partner
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                Filing.objects.create(
                    partner_id=partner.partner_id, kind=kind, code=code, applicant_pin=caller.pin
                )
        except IntegrityError:
            pass  # a retry of the same submission (same idempotency key)
        else:
            audit_record(
                actor=partner.actor,
                action=f"exchange.{kind}_filed",
                object_type=f"dossiers.{kind}",
                object_id=code,
                after={"applicant": caller.pin, "eid_level": caller.eid_level, "new": created},
            )
        access_log_record(
            actor=partner.actor,
            subject_pins=[caller.pin],
            data=f"dossiers.{kind}",
            purpose=gettext_noop("Nộp hồ sơ %(code)s thay công dân") % {"code": code},
        )


def exchange_dossier_submit(*, caller: CitizenCaller, submission: Submission) -> Submitted:
    """File a dossier for the signed-in citizen, at the level of their sign-in; a retry with
    the same idempotency key returns the first dossier."""
    submitted = dossier_submit(
        actor=caller.citizen, submission=submission, eid_level=caller.eid_level
    )
    _filed(caller, FilingKind.DOSSIER, submitted.code, submitted.created)
    return submitted


def exchange_package_submit(
    *, caller: CitizenCaller, submission: PackageSubmission
) -> PackageFiled:
    """File a linked package (birth, death) for the signed-in citizen; its steps' dossiers are
    filed by the background worker, and their status changes go to this partner too. A retry
    with the same idempotency key returns the first package."""
    filed = package_submit(actor=caller.citizen, submission=submission, eid_level=caller.eid_level)
    _filed(caller, FilingKind.PACKAGE, filed.code, filed.created)
    return filed


def exchange_dossier_supplement(
    *, caller: CitizenCaller, code: str, files: Mapping[str, UploadedFile], note: str = ""
) -> int:
    """Bring the papers an official asked for (the dossier's "supplement" step); the dossier's id.
    Another person's dossier is not found."""
    citizen = caller.citizen
    dossier_id = dossier_id_by_code(actor=citizen, code=code)
    version = dossier_detail(actor=citizen, dossier_id=dossier_id).version
    dossier_act(
        actor=citizen,
        step=Step(
            dossier_id=dossier_id, action="supplement", version=version, note=note, files=files
        ),
    )
    access_log_record(
        actor=caller.partner.actor,
        subject_pins=[caller.pin],
        data="dossiers.dossier",
        purpose=gettext_noop("Bổ sung hồ sơ %(code)s thay công dân") % {"code": code},
    )
    return dossier_id


# --- the outbox: status changes to the partners' addresses ----------------------------------------


def _event_type(event: DossierEventRow) -> str:
    if event.action != "submit" and event.source == event.target:
        return APPOINTMENT_CHANGED
    return STATUS_CHANGED


def event_payload(event: DossierEventRow) -> dict[str, Any]:
    """What a partner receives about one step of a dossier it filed (DOMAIN.md §6's code)."""
    with translation.override("vi"):
        label = str(Status(event.target).label) if event.target in Status.values else event.target
    return {
        "event_id": str(event.id),
        "type": _event_type(event),
        "dossier": event.dossier_code,
        "package": event.package_code or None,
        "action": event.action,
        "status": event.target,
        "national_status_code": NATIONAL_CODES.get(event.target),
        "status_label": label,
        "at": event.at.isoformat(),
        "appointment": event.due_on.isoformat(),
    }


def _deliveries_for(events: list[DossierEventRow], now: datetime) -> list[Delivery]:
    dossiers = {e.dossier_code for e in events}
    packages = {e.package_code for e in events if e.package_code}
    filings = Filing.objects.filter(
        Q(kind=FilingKind.DOSSIER, code__in=dossiers)
        | Q(kind=FilingKind.PACKAGE, code__in=packages)
    ).values_list("kind", "code", "partner_id")
    partners_of: dict[tuple[str, str], set[int]] = {}
    for kind, code, partner_id in filings:
        partners_of.setdefault((kind, code), set()).add(partner_id)
    if not partners_of:
        return []
    wanted = {p for ps in partners_of.values() for p in ps}
    subscriptions: dict[int, list[Subscription]] = {}
    for subscription in Subscription.objects.filter(
        partner_id__in=wanted, active=True, partner__active=True
    ):
        subscriptions.setdefault(subscription.partner_id, []).append(subscription)
    rows = []
    for event in events:
        partners = partners_of.get((FilingKind.DOSSIER, event.dossier_code), set()) | (
            partners_of.get((FilingKind.PACKAGE, event.package_code), set())
            if event.package_code
            else set()
        )
        payload = event_payload(event)
        for partner_id in partners:
            for subscription in subscriptions.get(partner_id, []):
                if payload["type"] in subscription.events:
                    rows.append(
                        Delivery(
                            subscription=subscription,
                            event_id=event.id,
                            event_type=payload["type"],
                            payload=payload,
                            next_attempt_at=now,
                        )
                    )
    return rows


def deliveries_scan(*, batch: int = 500) -> int:
    """Write one delivery per (subscription, event) for the dossier events since the cursor;
    never twice (the table's uniqueness), so re-reading is harmless. Returns the deliveries
    offered (those already written before included). One scan at a time (the cursor's lock)."""
    offered = 0
    with transaction.atomic(durable=True):
        Cursor.objects.get_or_create(name=CURSOR)
        cursor = Cursor.objects.select_for_update().get(name=CURSOR)
        now = timezone.now()
        settled_before = now - SCAN_GRACE
        after, safe, settled = cursor.position, cursor.position, True
        while events := dossier_events_since(after_id=after, limit=batch):
            rows = _deliveries_for(events, now)
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            offered += len(rows)
            for event in events:
                settled = settled and event.at < settled_before
                if settled:
                    safe = event.id
            after = events[-1].id
        if safe != cursor.position:
            cursor.position = safe
            cursor.save(update_fields=["position"])
    return offered


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** max(0, attempts - 1), BACKOFF_CAP)


def _claimed(limit: int) -> list[Delivery]:
    """Due deliveries, each taken by one sender for LEASE (a sender that dies lets it go)."""
    with transaction.atomic(durable=True):
        now = timezone.now()
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                subscription__active=True,
            )
            .order_by("next_attempt_at", "id")[:limit]
        )
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=now + LEASE)
    return due


def deliveries_send(*, limit: int = 50) -> int:
    """One attempt for each due delivery; the number delivered. A failure is retried later with
    exponential backoff, and after MAX_ATTEMPTS the delivery is given up (recorded as failed).
    Receivers may see an event twice (a sender dying after the POST): X-Motcua-Event-Id
    tells them it is the same."""
    delivered = 0
    for delivery in _claimed(limit):
        subscription = delivery.subscription
        try:
            secret = webhooks.secret_open(subscription.secret_encrypted)
        except ValueError as error:
            attempt = webhooks.Attempt(False, str(error))
        else:
            attempt = webhooks.post(
                subscription.url,
                secret=secret,
                event_id=str(delivery.event_id),
                payload=delivery.payload,
            )
        now = timezone.now()
        attempts = delivery.attempts + 1
        pending = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
        if attempt.ok:
            delivered += pending.update(
                status=DeliveryStatus.DELIVERED, attempts=attempts, delivered_at=now, last_error=""
            )
        elif attempts >= MAX_ATTEMPTS:
            pending.update(
                status=DeliveryStatus.FAILED, attempts=attempts, last_error=attempt.error
            )
        else:
            pending.update(
                attempts=attempts,
                last_error=attempt.error,
                next_attempt_at=now + _backoff(attempts),
            )
    return delivered


# --- the demo --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPartner:
    partner: PartnerView
    credentials: Credentials
    subscription: NewSubscription


def exchange_demo_seed(
    *, actor: Actor, name: str, redirect_uri: str, webhook_url: str
) -> DemoPartner:
    """A demo partner portal with one subscription (for `motcua demo`): its client secret and
    webhook secret are in the answer, for the demo to print once."""
    partner, credentials = exchange_partner_register(
        actor=actor, name=name, redirect_uris=[redirect_uri]
    )
    subscription = subscription_add(actor=actor, partner_id=partner.id, url=webhook_url)
    return DemoPartner(partner, credentials, subscription)
