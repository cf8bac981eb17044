"""Proactive services (dịch vụ chủ động): the state offers instead of waiting to be asked.

Rules are data (data/offers.json): a life event in the registry (a birth, a death), an ID card
reaching its renewal age, an e-ID account raised to level 2 each make an offer to the people
concerned, once per rule, person and trigger (the table's unique constraint). A periodic scan
(tasks.offers_scan) reads new events from a cursor, the cards due by date, marks offers
completed when their dossier or package finishes and expires those nobody took up.

The citizen accepts or declines each offer in the portal: accepting a procedure offer gives
the portal a pre-filled declaration to show on its check-your-answers page (one click files
it, under an idempotency key derived from the offer); a package offer leads to the package
form; some offers are done by the state itself (a child's health-insurance card)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from motcua.catalog.selectors import Status, procedure_current
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, DomainError, NotFound
from motcua.core.messaging import message_send
from motcua.dossiers.models import (
    CLOSED,
    Dossier,
    Offer,
    OfferCursor,
    OfferStatus,
    Package,
    PackageKind,
    PackageStatus,
)
from motcua.identity import selectors as identity
from motcua.insurance.selectors import health_cards_of
from motcua.insurance.services import health_card_issue
from motcua.registry import selectors as registry

log = logging.getLogger("motcua.dossiers.offers")

RULES_FILE = Path(__file__).parent / "data" / "offers.json"
# The scan: the state reading its own records to offer services, in each person's access log.
SCANNER = Actor(kind="system", ref="dich-vu-chu-dong")
# Social insurance issuing a child's health-insurance card without being asked.
SOCIAL_INSURANCE = Actor(kind="system", ref="bao-hiem-xa-hoi")
PURPOSE = gettext_noop("Dịch vụ chủ động: đề xuất dịch vụ công theo sự kiện của công dân")
PAGE = 500
CHILD_CARD_YEARS = 6
OPEN = (OfferStatus.OFFERED,)
DONE_DOSSIER = (Status.RESULT_ISSUED, Status.RETURNED)
EVENTS_CURSOR = "life_events"
LEVEL_CURSOR = "eid_level2"
AGES_CURSOR = "card_ages"


# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    code: str
    when: dict[str, Any]
    to: str  # "holder", "parents", "family"
    texts: dict[str, str]
    does: str = ""  # "health_card": the state does it itself
    procedure: str = ""
    package: str = ""
    link: str = ""
    prefill: dict[str, Any] = field(default_factory=dict)
    fee_exemption: str = ""
    expires_days: int | None = None
    legal_basis: str = ""

    @property
    def kind(self) -> str:
        """What accepting leads to: a pre-filled dossier, a package form, a page; or nothing to
        accept, the state did it."""
        if self.does:
            return "automatic"
        if self.procedure:
            return "procedure"
        if self.package:
            return "package"
        return "info"

    def text(self, which: str, /, **values: Any) -> str:
        """One of the rule's texts in the active language, its {placeholders} filled."""
        english = (get_language() or "vi").startswith("en")
        template = (english and self.texts.get(f"{which}_en")) or self.texts.get(which, "")
        return template.format_map(_Blank(values))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


TEXTS = ("title", "text", "why", "message")


@cache
def offer_rules() -> dict[str, Rule]:
    """The rules, from data/offers.json."""
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    found: dict[str, Rule] = {}
    for raw in data["rules"]:
        texts = {k: raw[k] for k in raw if k.removesuffix("_en") in TEXTS}
        found[raw["code"]] = Rule(
            code=raw["code"],
            when=raw["when"],
            to=raw["to"],
            texts=texts,
            does=raw.get("does", ""),
            procedure=raw.get("procedure", ""),
            package=raw.get("package", ""),
            link=raw.get("link", ""),
            prefill=raw.get("prefill", {}),
            fee_exemption=raw.get("fee_exemption", ""),
            expires_days=raw.get("expires_days"),
            legal_basis=raw.get("legal_basis", ""),
        )
    return found


def offer_key(offer_id: int) -> str:
    """The idempotency key of the dossier or package an offer leads to: the same for every
    accept of the offer (32 hex digits, as the portal's drafts), so filing twice is one
    dossier, and the scan finds the dossier by it."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"motcua:offer:{offer_id}").hex


def _rule_of(offer: Offer) -> Rule | None:
    return offer_rules().get(offer.rule)


# --- the views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    """One offer as its person sees it: what, why, until when, where it stands; labels only."""

    id: int
    rule: str
    kind: str  # "procedure", "package", "automatic", "info"
    title: str
    text: str
    why: str
    status: str
    status_label: str
    offered_on: date
    until: date | None
    open: bool  # still waiting for the person's answer
    procedure_code: str
    procedure_name: str
    package_kind: str
    package_label: str
    link: str  # a URL name, for information offers
    prefill: dict[str, Any]
    idempotency_key: str
    subject_pin: str
    dossier_id: int | None
    dossier_code: str
    package_id: int | None
    package_code: str
    decided_on: date | None
    completed_on: date | None


def _about(offer: Offer) -> dict[str, Any]:
    about = offer.prefill.get("_about")
    return about if isinstance(about, dict) else {}


def _day_words(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value or "")


def _procedure_name(code: str) -> str:
    if not code:
        return ""
    try:
        procedure = procedure_current(code)
    except NotFound:
        return ""
    english = (get_language() or "vi").startswith("en")
    return procedure.name_en if english and procedure.name_en else procedure.name


def _view(offer: Offer, dossier: Dossier | None, package: Package | None) -> OfferView:
    rule = _rule_of(offer)
    about = _about(offer)
    values = {**about, "date": _day_words(about.get("date"))}
    return OfferView(
        id=offer.pk,
        rule=offer.rule,
        kind=rule.kind if rule else "info",
        title=rule.text("title", **values) if rule else "",
        text=rule.text("text", **values) if rule else "",
        why=rule.text("why", **values) if rule else "",
        status=offer.status,
        status_label=str(OfferStatus(offer.status).label),
        offered_on=timezone.localdate(offer.offered_at),
        until=offer.expires_on,
        open=offer.status in OPEN,
        procedure_code=offer.procedure_code,
        procedure_name=_procedure_name(offer.procedure_code),
        package_kind=offer.package_kind,
        package_label=str(PackageKind(offer.package_kind).label) if offer.package_kind else "",
        link=rule.link if rule else "",
        prefill={k: v for k, v in offer.prefill.items() if not k.startswith("_")},
        idempotency_key=offer_key(offer.pk),
        subject_pin=offer.subject_pin,
        dossier_id=dossier.pk if dossier else None,
        dossier_code=dossier.code if dossier else "",
        package_id=package.pk if package else None,
        package_code=package.code if package else "",
        decided_on=timezone.localdate(offer.decided_at) if offer.decided_at else None,
        completed_on=timezone.localdate(offer.completed_at) if offer.completed_at else None,
    )


def _filed(offers: list[Offer]) -> tuple[dict[int, Dossier], dict[int, Package]]:
    """The dossier and package each offer led to: linked by the scan, or found by the offer's
    idempotency key before the scan ran (one query each, whatever the number of offers)."""
    keys = {offer_key(o.pk): o for o in offers}
    pins = {o.pin for o in offers}
    dossiers = {o.pk: o.dossier for o in offers if o.dossier_id and o.dossier}
    packages = {o.pk: o.package for o in offers if o.package_id and o.package}
    if keys:
        for d in Dossier.objects.filter(applicant_pin__in=pins, idempotency_key__in=list(keys)):
            found = keys[d.idempotency_key]
            if found.pin == d.applicant_pin:
                dossiers.setdefault(found.pk, d)
        for p in Package.objects.filter(applicant_pin__in=pins, idempotency_key__in=list(keys)):
            found = keys[p.idempotency_key]
            if found.pin == p.applicant_pin:
                packages.setdefault(found.pk, p)
    return dossiers, packages


def _citizen_pin(actor: Actor) -> str | None:
    return actor.pin if actor.kind == "citizen" and actor.pin else None


def offers_of(*, actor: Actor) -> list[OfferView]:
    """The signed-in citizen's offers: those waiting for an answer first (soonest to end
    first), then the rest, newest first."""
    pin = _citizen_pin(actor)
    if pin is None:
        return []
    offers = list(
        Offer.objects.filter(pin=pin)
        .select_related("dossier", "package")
        .order_by("-offered_at", "-id")
    )
    dossiers, packages = _filed(offers)
    views = [_view(o, dossiers.get(o.pk), packages.get(o.pk)) for o in offers]
    waiting = sorted((v for v in views if v.open), key=lambda v: (v.until or date.max, v.id))
    return waiting + [v for v in views if not v.open]


def _own(actor: Actor, offer_id: int, *, lock: bool = False) -> Offer:
    """The actor's own offer; anybody else's is not found (they learn nothing of it)."""
    pin = _citizen_pin(actor)
    rows = Offer.objects.select_for_update() if lock else Offer.objects.all()
    offer = rows.filter(pk=offer_id, pin=pin).first() if pin else None
    if offer is None:
        raise NotFound(_("Không có dịch vụ chủ động này"))
    return offer


def offer_get(*, actor: Actor, offer_id: int) -> OfferView:
    """One of the citizen's offers (the package form reads its pre-filled values here)."""
    offer = _own(actor, offer_id)
    dossiers, packages = _filed([offer])
    return _view(offer, dossiers.get(offer.pk), packages.get(offer.pk))


def offer_counts(*, since: date | None = None) -> dict[str, dict[str, int]]:
    """For monitoring, per rule: offers made (since a day), accepted (accepted or completed
    after acceptance), declined, completed, done automatically, expired. Counts only."""
    rows = Offer.objects.all()
    if since is not None:
        rows = rows.filter(offered_at__date__gte=since)
    counted = rows.values("rule").annotate(
        made=Count("id"),
        accepted=Count("id", filter=Q(status__in=["accepted", "completed"])),
        declined=Count("id", filter=Q(status="declined")),
        completed=Count("id", filter=Q(status="completed")),
        automatic=Count("id", filter=Q(status="automatic")),
        expired=Count("id", filter=Q(status="expired")),
    )
    counts = {
        code: dict.fromkeys(
            ("made", "accepted", "declined", "completed", "automatic", "expired"), 0
        )
        for code in offer_rules()
    }
    for row in counted:
        rule = row.pop("rule")
        counts[rule] = {k: int(v) for k, v in row.items()}
    return counts


# --- accepting, declining ----------------------------------------------------------------------


@dataclass(frozen=True)
class OfferAccepted:
    """What the portal does next. `next`:
    - "check": show the check-your-answers page of `procedure_code` for the draft below
      (declaration, agency, fee exemption, and the form's raw values for "change");
    - "package": open the package form of `package_kind` with the offer's pre-filled values;
    - "link": open the page named `link`;
    - "dossier" / "package_filed": already filed, show it;
    - "done": nothing left to do."""

    offer_id: int
    status: str
    next: str
    procedure_code: str = ""
    idempotency_key: str = ""
    agency_id: int | None = None
    declaration: dict[str, Any] = field(default_factory=dict)
    fee_exemption: str = ""
    form_data: dict[str, list[str]] = field(default_factory=dict)
    package_kind: str = ""
    link: str = ""
    dossier_id: int | None = None
    package_id: int | None = None


def offer_accept(*, actor: Actor, offer_id: int) -> OfferAccepted:
    """The citizen takes up an offer. Idempotent: accepting again gives the same draft (and
    the same idempotency key, so one dossier). An offer declined may still be accepted while
    it runs; an expired one, or one the state already did, may not."""
    offer = _accepted(actor, offer_id)
    rule = _rule_of(offer)
    dossiers, packages = _filed([offer])
    if (dossier := dossiers.get(offer.pk)) is not None:
        return OfferAccepted(offer.pk, offer.status, "dossier", dossier_id=dossier.pk)
    if (package := packages.get(offer.pk)) is not None:
        return OfferAccepted(offer.pk, offer.status, "package_filed", package_id=package.pk)
    if rule is None or rule.kind == "info":
        return OfferAccepted(
            offer.pk, offer.status, "link" if rule else "done", link=rule.link if rule else ""
        )
    if rule.kind == "package":
        return OfferAccepted(
            offer.pk,
            offer.status,
            "package",
            package_kind=offer.package_kind,
            idempotency_key=offer_key(offer.pk),
        )
    return _draft(actor, offer, rule)


@transaction.atomic(durable=True)
def _accepted(actor: Actor, offer_id: int) -> Offer:
    offer = _own(actor, offer_id, lock=True)
    if offer.status in (OfferStatus.ACCEPTED, OfferStatus.COMPLETED):
        return offer
    if offer.status == OfferStatus.AUTOMATIC:
        raise Conflict(_("Nhà nước đã tự giải quyết việc này, bạn không cần làm gì thêm"))
    if offer.status == OfferStatus.EXPIRED or (
        offer.expires_on is not None and offer.expires_on < timezone.localdate()
    ):
        raise Conflict(_("Đề xuất này đã hết hạn"))
    before = {"status": offer.status}
    rule = _rule_of(offer)
    now = timezone.now()
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = now
    if rule is not None and rule.kind == "info":  # nothing to file: seen and taken up is done
        offer.status, offer.completed_at = OfferStatus.COMPLETED, now
    offer.save(update_fields=["status", "decided_at", "completed_at"])
    audit_record(
        actor=actor,
        action="offer.accept",
        object_type="dossiers.offer",
        object_id=str(offer.pk),
        before=before,
        after={"status": offer.status},
    )
    return offer


def _form_values(schema: dict[str, Any], declaration: dict[str, Any]) -> dict[str, list[str]]:
    """The declaration as the submit form would have posted it (for its "change" links)."""
    data: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        value = declaration.get(name)
        if value in (None, "", False):
            continue
        if prop.get("type") == "boolean":
            data[name] = ["on"]
        elif prop.get("format") == "date":
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                continue
            data |= {f"{name}_0": [str(day.day)], f"{name}_1": [str(day.month)]}
            data[f"{name}_2"] = [str(day.year)]
        else:
            data[name] = [str(value)]
    return data


def _draft(actor: Actor, offer: Offer, rule: Rule) -> OfferAccepted:
    """The renewal declaration filled in: the registry's facts (submission_start), the rule's
    answers (the reason, how to receive), where to go for the photo (the agency serving the
    person's residence) and the fee exemption."""
    from motcua.dossiers.selectors import submission_agency_default, submission_start

    start = submission_start(actor=actor, procedure_code=offer.procedure_code)
    default = submission_agency_default(actor=actor, procedure_code=offer.procedure_code)
    agency_id = default.agency_id if default else start.default_agency_id
    agency_names = {a.id: a.name for a in start.agencies}
    properties = start.procedure.form_schema.get("properties", {})
    declaration = dict(start.prefilled)
    for name, value in offer.prefill.items():
        if name in properties and name not in start.locked:
            declaration[name] = value
    if "noi_thu_nhan" in properties and agency_id in agency_names:
        declaration.setdefault("noi_thu_nhan", agency_names[agency_id])
    exemptions = {e["code"] for e in start.procedure.fee_exemptions if e.get("declared")}
    exemption = rule.fee_exemption if rule.fee_exemption in exemptions else ""
    key = offer_key(offer.pk)
    data = _form_values(start.procedure.form_schema, declaration)
    data["idempotency_key"] = [key]
    if agency_id is not None:
        data["agency_id"] = [str(agency_id)]
    if exemption:
        data["fee_exemption"] = [exemption]
    return OfferAccepted(
        offer_id=offer.pk,
        status=offer.status,
        next="check",
        procedure_code=offer.procedure_code,
        idempotency_key=key,
        agency_id=agency_id,
        declaration=declaration,
        fee_exemption=exemption,
        form_data=data,
    )


MAX_REASON = 500


@transaction.atomic(durable=True)
def offer_decline(*, actor: Actor, offer_id: int, reason: str = "") -> OfferView:
    """The citizen says no, thanks (with a reason if they like). Declining again changes
    nothing; an offer already taken up or done cannot be declined."""
    offer = _own(actor, offer_id, lock=True)
    if offer.status != OfferStatus.DECLINED:
        if offer.status not in OPEN:
            raise Conflict(_("Đề xuất này không còn chờ bạn quyết định"))
        before = {"status": offer.status}
        offer.status, offer.decided_at = OfferStatus.DECLINED, timezone.now()
        offer.save(update_fields=["status", "decided_at"])
        audit_record(
            actor=actor,
            action="offer.decline",
            object_type="dossiers.offer",
            object_id=str(offer.pk),
            reason=" ".join(reason.split())[:MAX_REASON],
            before=before,
            after={"status": offer.status},
        )
    dossiers, packages = _filed([offer])
    return _view(offer, dossiers.get(offer.pk), packages.get(offer.pk))


# --- the scan ----------------------------------------------------------------------------------


def offers_scan(*, today: date | None = None) -> int:
    """Make the offers the rules call for since the last scan, do what the state does itself,
    mark offers completed or expired. Returns the number of offers made. Safe to run again or
    after a crash at any point: offers are unique per rule, person and trigger, the cursors
    move only after what they passed is written, and each event is read by two scans."""
    today = today or timezone.localdate()
    made = _events_scan(today)
    made += _ages_scan(today)
    made += _level_scan(today)
    _health_cards_issue()
    _completions_mark()
    _expired_mark(today)
    return made


def _cursor(name: str) -> OfferCursor:
    cursor, _created = OfferCursor.objects.get_or_create(name=name)
    return cursor


def _cursor_save(name: str, **values: Any) -> None:
    OfferCursor.objects.filter(name=name).update(**values, updated_at=timezone.now())


def _read_stream(name: str, read: Any, handle: Any, *, today: date) -> int:
    """Read a stream of events by id from the cursor, page by page; handle each. The cursor's
    `seen` follows the pages; `position` moves to the previous scan's `seen` only at the end,
    so the last stretch is read twice (late commits with smaller ids are caught)."""
    cursor = _cursor(name)
    start, earlier_seen = cursor.position, cursor.seen
    after, made = start, 0
    while True:
        page = read(after)
        for event in page:
            made += handle(event, today)
        if page:
            after = max(after, max(e.id for e in page))
            if after > earlier_seen:
                _cursor_save(name, seen=after)
        if len(page) < PAGE:
            break
    _cursor_save(name, position=max(start, min(earlier_seen, after)))
    return made


def _events_scan(today: date) -> int:
    kinds = sorted({r.when["event"] for r in offer_rules().values() if "event" in r.when})
    if not kinds:
        return 0

    def read(after: int) -> list[Any]:
        return list(registry.life_events_since(after_id=after, kinds=kinds, limit=PAGE))

    return _read_stream(EVENTS_CURSOR, read, _on_event, today=today)


def _on_event(event: Any, today: date) -> int:
    made = 0
    for rule in offer_rules().values():
        if rule.when.get("event") != event.kind:
            continue
        if rule.does == "health_card":
            made += _on_birth(rule, event, today)
        elif rule.package:
            made += _on_death(rule, event, today)
    return made


def _record(pin: str) -> registry.CitizenRecord | None:
    try:
        return registry.citizen_get(actor=SCANNER, pin=pin, purpose=PURPOSE)
    except DomainError:
        return None


def _living(pins: Iterable[str]) -> list[registry.CitizenRecord]:
    found = []
    for pin in dict.fromkeys(p for p in pins if p):
        record = _record(pin)
        if record is not None and record.status == "living":
            found.append(record)
    return found


def _on_birth(rule: Rule, event: Any, today: date) -> int:
    """A birth: the child's health-insurance card, issued without asking (under 6), the parents
    told. Not when the birth came through a linked birth package (its own step issues the
    card) or the child already holds one."""
    born = event.occurred_on
    if today >= registry.add_years(born, CHILD_CARD_YEARS):
        return 0
    if _birth_in_package(event.reference) or _health_card_held(event.pin):
        return 0
    child = _record(event.pin)
    if child is None:
        return 0
    parents = _living([child.mother_pin, child.father_pin])
    about = {"name": child.full_name, "date": born.isoformat(), "valid_from": born.isoformat()}
    return _offers_make(
        rule,
        [p.pin for p in parents],
        subject=child.pin,
        trigger=f"event:{event.id}",
        today=today,
        status=OfferStatus.AUTOMATIC,
        prefill={"_about": about},
    )


def _birth_in_package(reference: str) -> bool:
    """The birth was registered by a dossier of a linked birth package (the event carries the
    dossier's code as its legal basis)."""
    if not reference:
        return False
    return Dossier.objects.filter(
        code=reference, package_step__package__kind=PackageKind.BIRTH
    ).exists()


def _health_card_held(pin: str) -> bool:
    cards = health_cards_of(actor=SOCIAL_INSURANCE, pin=pin, purpose=PURPOSE)
    return any(c.status == "active" for c in cards)


def _on_death(rule: Rule, event: Any, today: date) -> int:
    """A death: the spouse, children and parents of the deceased, living, are offered the
    funeral allowance through a pre-filled death package, unless one was filed already."""
    if rule.expires_days and event.occurred_on + timedelta(days=rule.expires_days) < today:
        return 0  # a death long past (the first scan of an old registry): nothing to offer now
    deceased = _record(event.pin)
    if deceased is None:
        return 0
    if Package.objects.filter(
        kind=rule.package, declaration__typed__nguoi_chet_pin=deceased.pin
    ).exists():
        return 0
    family = [deceased.spouse_pin, deceased.father_pin, deceased.mother_pin]
    family += _children_of(deceased.pin)
    relatives = [r.pin for r in _living(family) if r.pin != deceased.pin]
    about = {"name": deceased.full_name, "date": event.occurred_on.isoformat()}
    return _offers_make(
        rule,
        relatives,
        subject=deceased.pin,
        trigger=f"event:{event.id}",
        today=today,
        # The death is registered already: the family is offered what follows it.
        prefill={
            "nguoi_chet_pin": deceased.pin,
            "nguoi_chet_ho_ten": deceased.full_name,
            "ngay_chet": event.occurred_on.isoformat(),
            "steps": ["residence_delete", "funeral"],
            "_about": about,
        },
    )


def _children_of(pin: str) -> list[str]:
    return [c.pin for c in registry.children_of(actor=SCANNER, pin=pin, purpose=PURPOSE)]


def _offers_make(
    rule: Rule,
    pins: Iterable[str],
    *,
    subject: str,
    trigger: str,
    today: date,
    status: str = OfferStatus.OFFERED,
    prefill: Mapping[str, Any] | None = None,
) -> int:
    """One offer per person, once (rule, person, trigger): in one transaction with its audit
    rows. Returns how many were new."""
    made = 0
    expires = today + timedelta(days=rule.expires_days) if rule.expires_days else None
    with transaction.atomic():
        for pin in dict.fromkeys(pins):
            offer, created = Offer.objects.get_or_create(
                rule=rule.code,
                pin=pin,
                trigger=trigger,
                defaults={
                    "subject_pin": subject,
                    "procedure_code": rule.procedure,
                    "package_kind": rule.package,
                    "prefill": {**rule.prefill, **(prefill or {})},
                    "status": status,
                    "offered_at": timezone.now(),
                    "expires_on": expires,
                },
            )
            if not created:
                continue
            made += 1
            audit_record(
                actor=SCANNER,
                action="offer.make",
                object_type="dossiers.offer",
                object_id=str(offer.pk),
                reason=rule.legal_basis,
                after={"rule": rule.code, "trigger": trigger, "status": status},
            )
    return made


def _ages_scan(today: date) -> int:
    """ID cards reaching a renewal age: offered `days_before` the birthday. The days since the
    last scan are covered too (a day the scan did not run is not lost)."""
    rules = [r for r in offer_rules().values() if "card_due" in r.when]
    if not rules:
        return 0
    cursor = _cursor(AGES_CURSOR)
    start = today if cursor.scanned_on is None else min(cursor.scanned_on + timedelta(1), today)
    if cursor.scanned_on is not None and cursor.scanned_on >= today:
        return 0
    made = 0
    ahead = max(int(r.when.get("days_before", 30)) for r in rules)
    for due in _cards_due(start, (today - start).days + ahead):
        age = due.expires_on.year - registry.pin_parse(due.pin).birth_year
        for rule in rules:
            if age not in rule.when["card_due"]:
                continue
            if due.expires_on > today + timedelta(int(rule.when.get("days_before", 30))):
                continue
            if _procedure_open(due.pin, rule.procedure):
                continue
            about = {"name": due.full_name, "date": due.expires_on.isoformat(), "age": age}
            made += _offers_make(
                rule,
                [due.pin],
                subject=due.pin,
                trigger=f"age:{age}:{due.expires_on.year}",
                today=today,
                prefill={"_about": about},
            )
    _cursor_save(AGES_CURSOR, scanned_on=today)
    return made


def _cards_due(start: date, within: int) -> list[registry.RenewalDue]:
    """Every card due from `start` for `within` days, read in pages by date."""
    found: dict[str, registry.RenewalDue] = {}
    day, end, limit = start, start + timedelta(within), 5000
    while day <= end:
        page = registry.cards_due_for_renewal(
            actor=SCANNER, within_days=(end - day).days, purpose=PURPOSE, today=day, limit=limit
        )
        found.update((d.pin, d) for d in page)
        if len(page) < limit:
            break
        last = page[-1].expires_on
        if last == day:
            limit *= 2
        day = last
    return sorted(found.values(), key=lambda d: (d.expires_on, d.pin))


def _procedure_open(pin: str, code: str) -> bool:
    return (
        Dossier.objects.filter(applicant_pin=pin, procedure_code=code)
        .exclude(status__in=CLOSED)
        .exists()
    )


def _level_scan(today: date) -> int:
    """Accounts raised to level 2 (the e-ID's stream of level raises): told of their
    integrated documents."""
    rules = [r for r in offer_rules().values() if r.when.get("eid_level") == 2]
    if not rules:
        return 0

    def read(after: int) -> list[identity.LevelRaise]:
        return identity.level_raises_since(after_id=after, limit=PAGE)

    def handle(raised: identity.LevelRaise, today: date) -> int:
        about = {"date": raised.raised_on.isoformat()}
        return sum(
            _offers_make(
                rule,
                [raised.pin],
                subject=raised.pin,
                trigger=f"eid2:{raised.id}",
                today=today,
                prefill={"_about": about},
            )
            for rule in rules
        )

    return _read_stream(LEVEL_CURSOR, read, handle, today=today)


# --- what the state does itself: the child's health-insurance card -----------------------------


def _health_cards_issue() -> None:
    """For each birth whose card is not issued yet: issue it (social insurance's service,
    idempotent by its reference: the first offer of the birth), then mark the birth's offers
    done and tell the parents. A failure leaves them for the next scan."""
    codes = [r.code for r in offer_rules().values() if r.does == "health_card"]
    pending = Offer.objects.filter(
        rule__in=codes, status=OfferStatus.AUTOMATIC, completed_at__isnull=True
    ).order_by("id")
    births: dict[tuple[str, str], list[Offer]] = {}
    for offer in pending:
        births.setdefault((offer.rule, offer.trigger), []).append(offer)
    for offers in births.values():
        try:
            _health_card_issue(offers)
        except Exception:
            log.exception("health card for %s not issued; retried next scan", offers[0].subject_pin)


def _health_card_issue(offers: list[Offer]) -> None:
    first = Offer.objects.filter(rule=offers[0].rule, trigger=offers[0].trigger).order_by("id")[0]
    child = first.subject_pin
    valid_from = date.fromisoformat(_about(first)["valid_from"])
    if not _health_card_held(child):
        try:
            health_card_issue(
                actor=SOCIAL_INSURANCE,
                pin=child,
                valid_from=valid_from,
                reference=f"offer:{first.pk}",
            )
        except DomainError:
            if not _health_card_held(child):  # refused for another reason than "has one"
                raise
    _automatic_done(offers)


@transaction.atomic(durable=True)
def _automatic_done(offers: list[Offer]) -> None:
    now = timezone.now()
    done = list(
        Offer.objects.select_for_update().filter(
            pk__in=[o.pk for o in offers], completed_at__isnull=True
        )
    )
    for offer in done:
        offer.completed_at = now
        offer.save(update_fields=["completed_at"])
        audit_record(
            actor=SOCIAL_INSURANCE,
            action="offer.complete",
            object_type="dossiers.offer",
            object_id=str(offer.pk),
            after={"status": offer.status, "completed_at": now.isoformat()},
        )
    ids = [o.pk for o in done]
    transaction.on_commit(lambda: _parents_tell(ids))


def _parents_tell(offer_ids: list[int]) -> None:
    """After commit: each parent told at their e-ID contact; a failing gateway is logged."""
    for offer in Offer.objects.filter(pk__in=offer_ids):
        rule = _rule_of(offer)
        contact = identity.contact_of(offer.pin)
        if rule is None or contact is None:
            continue
        about = _about(offer)
        text = rule.text(
            "message",
            name=about.get("name", ""),
            date=_day_words(about.get("valid_from")),
            url=f"{settings.PUBLIC_URL}/dich-vu-chu-dong/",
        )
        subject = rule.text("title")
        for destination in (contact.email, contact.phone):
            if not destination:
                continue
            try:
                message_send(destination=destination, subject=subject, text=text)
            except Exception:
                log.exception("telling %s of offer %s failed", destination, offer.pk)


# --- completions and expiry ----------------------------------------------------------------------


def _completions_mark() -> None:
    """Accepted offers whose dossier has its result, or whose package completed: done. The
    other offers of the same event (the family of one deceased) are closed with them."""
    accepted = list(
        Offer.objects.filter(status=OfferStatus.ACCEPTED).select_related("dossier", "package")
    )
    dossiers, packages = _filed(accepted)
    for offer in accepted:
        dossier, package = dossiers.get(offer.pk), packages.get(offer.pk)
        finished = (dossier is not None and dossier.status in DONE_DOSSIER) or (
            package is not None and package.status == PackageStatus.COMPLETED
        )
        linked = (dossier is not None and offer.dossier_id != dossier.pk) or (
            package is not None and offer.package_id != package.pk
        )
        if finished or linked:
            _offer_settle(offer.pk, dossier, package, finished)


@transaction.atomic(durable=True)
def _offer_settle(
    offer_id: int, dossier: Dossier | None, package: Package | None, finished: bool
) -> None:
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None or offer.status != OfferStatus.ACCEPTED:
        return
    before = {"status": offer.status, "dossier": offer.dossier_id, "package": offer.package_id}
    offer.dossier, offer.package = dossier or offer.dossier, package or offer.package
    if finished:
        offer.status, offer.completed_at = OfferStatus.COMPLETED, timezone.now()
    offer.save(update_fields=["dossier", "package", "status", "completed_at"])
    audit_record(
        actor=SCANNER,
        action="offer.complete" if finished else "offer.link",
        object_type="dossiers.offer",
        object_id=str(offer.pk),
        before=before,
        after={"status": offer.status, "dossier": offer.dossier_id, "package": offer.package_id},
    )
    if finished and offer.package_kind:
        others = Offer.objects.select_for_update().filter(
            rule=offer.rule, trigger=offer.trigger, status=OfferStatus.OFFERED
        )
        for other in others:
            _expire(other, reason=gettext_noop("Người thân khác đã thực hiện"))


def _expire(offer: Offer, *, reason: str) -> None:
    offer.status = OfferStatus.EXPIRED
    offer.save(update_fields=["status"])
    audit_record(
        actor=SCANNER,
        action="offer.expire",
        object_type="dossiers.offer",
        object_id=str(offer.pk),
        reason=reason,
        before={"status": OfferStatus.OFFERED},
        after={"status": OfferStatus.EXPIRED},
    )


@transaction.atomic(durable=True)
def _expired_mark(today: date) -> None:
    """Offers nobody answered before their rule's last day."""
    for offer in Offer.objects.select_for_update().filter(
        status=OfferStatus.OFFERED, expires_on__lt=today
    ):
        _expire(offer, reason=gettext_noop("Hết thời hạn của đề xuất"))
