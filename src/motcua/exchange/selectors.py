"""Reads of the exchange: a citizen's dossiers as a partner portal shows them (status with the
national code of DOMAIN.md §6, timeline, appointment), each read in the citizen's access log
naming the partner; a partner's subscriptions and their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q
from django.utils.translation import gettext_noop

from motcua.catalog.selectors import NATIONAL_CODES
from motcua.core.access import access_log_record
from motcua.dossiers.selectors import (
    dossier_detail,
    dossier_id_by_code,
    dossiers_of,
    package_detail,
    package_id_by_code,
)
from motcua.exchange.auth import CitizenCaller, PartnerCaller
from motcua.exchange.models import DeliveryStatus, Subscription


@dataclass(frozen=True)
class TimelineEntry:
    action: str
    status: str
    national_status_code: int | None
    status_label: str
    by: str  # who acted, by kind only: citizen, official, partner, system
    at: datetime
    note: str


@dataclass(frozen=True)
class DossierStatus:
    code: str
    procedure_code: str
    procedure_name: str
    agency_name: str
    status: str
    national_status_code: int
    status_label: str
    submitted_at: datetime
    appointment: date
    overdue: bool
    late: bool
    result_code: str
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class DossierLine:
    code: str
    procedure_code: str
    procedure_name: str
    status: str
    national_status_code: int
    status_label: str
    submitted_at: datetime
    appointment: date


def _logged(caller: CitizenCaller, data: str, purpose: str) -> None:
    access_log_record(
        actor=caller.partner.actor, subject_pins=[caller.pin], data=data, purpose=purpose
    )


def citizen_dossiers(*, caller: CitizenCaller, limit: int = 100) -> list[DossierLine]:
    """The citizen's dossiers, newest first."""
    rows = dossiers_of(actor=caller.citizen, limit=limit)
    _logged(caller, "dossiers.dossier", gettext_noop("Xem danh sách hồ sơ thay công dân"))
    return [
        DossierLine(
            code=r.code,
            procedure_code=r.procedure_code,
            procedure_name=r.procedure_name,
            status=r.status,
            national_status_code=NATIONAL_CODES[r.status],
            status_label=r.status_label,
            submitted_at=r.submitted_at,
            appointment=r.due_on,
        )
        for r in rows
    ]


def citizen_dossier(*, caller: CitizenCaller, code: str) -> DossierStatus:
    """One of the citizen's dossiers by its receipt code; anyone else's is not found."""
    dossier_id = dossier_id_by_code(actor=caller.citizen, code=code)
    detail = dossier_detail(actor=caller.citizen, dossier_id=dossier_id)
    _logged(
        caller,
        "dossiers.dossier",
        gettext_noop("Xem tình trạng hồ sơ %(code)s thay công dân") % {"code": detail.row.code},
    )
    return DossierStatus(
        code=detail.row.code,
        procedure_code=detail.row.procedure_code,
        procedure_name=detail.row.procedure_name,
        agency_name=detail.agency_name,
        status=detail.row.status,
        national_status_code=detail.national_status,
        status_label=detail.row.status_label,
        submitted_at=detail.row.submitted_at,
        appointment=detail.row.due_on,
        overdue=detail.row.overdue,
        late=detail.row.late,
        result_code=detail.result_code,
        timeline=[
            TimelineEntry(
                action=e.action,
                status=e.target,
                national_status_code=NATIONAL_CODES.get(e.target),
                status_label=e.target_label,
                by=e.actor.split(":", 1)[0],
                at=e.at,
                note=e.note,
            )
            for e in detail.events
        ],
    )


@dataclass(frozen=True)
class PackageStepLine:
    position: int
    procedure_code: str
    procedure_name: str
    agency_name: str
    status: str
    status_label: str
    dossier_code: str  # "" until the step is filed; then GET /dossiers/{code}
    dossier_status_label: str
    appointment: date | None
    reason: str


@dataclass(frozen=True)
class PackageStatus:
    code: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    submitted_at: datetime
    appointment: date  # the one appointment of the whole group
    finished_at: datetime | None
    steps: list[PackageStepLine]


def citizen_package(*, caller: CitizenCaller, code: str) -> PackageStatus:
    """One of the citizen's linked packages by its code: each step and where it stands, the one
    appointment; anyone else's is not found."""
    view = package_detail(
        actor=caller.citizen, package_id=package_id_by_code(actor=caller.citizen, code=code)
    )
    _logged(
        caller,
        "dossiers.package",
        gettext_noop("Xem tình trạng hồ sơ %(code)s thay công dân") % {"code": view.code},
    )
    return PackageStatus(
        code=view.code,
        kind=view.kind,
        kind_label=view.kind_label,
        status=view.status,
        status_label=view.status_label,
        submitted_at=view.submitted_at,
        appointment=view.due_on,
        finished_at=view.finished_at,
        steps=[
            PackageStepLine(
                position=s.position,
                procedure_code=s.procedure_code,
                procedure_name=s.procedure_name,
                agency_name=s.agency_name,
                status=s.status,
                status_label=s.status_label,
                dossier_code=s.dossier_code,
                dossier_status_label=s.dossier_status_label,
                appointment=s.due_on,
                reason=s.reason,
            )
            for s in view.steps
        ],
    )


@dataclass(frozen=True)
class SubscriptionLine:
    id: int
    url: str
    events: list[str]
    active: bool
    pending: int
    delivered: int
    failed: int


def subscriptions_of(*, partner: PartnerCaller) -> list[SubscriptionLine]:
    def counted(status: str) -> Count:
        return Count("deliveries", filter=Q(deliveries__status=status))

    rows = (
        Subscription.objects.filter(partner_id=partner.partner_id)
        .annotate(
            pending=counted(DeliveryStatus.PENDING),
            delivered=counted(DeliveryStatus.DELIVERED),
            failed=counted(DeliveryStatus.FAILED),
        )
        .order_by("id")
    )
    return [
        SubscriptionLine(s.pk, s.url, list(s.events), s.active, s.pending, s.delivered, s.failed)
        for s in rows
    ]
