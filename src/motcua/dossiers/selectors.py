"""Reads of dossiers, as plain data: the citizen's own, the agency's queue, one dossier with its
timeline. Officials' reads of a person's dossier go into that person's access log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog.selectors import (
    NATIONAL_CODES,
    AgencyView,
    ProcedureSnapshot,
    Status,
    TransitionView,
    agencies_of_kind,
    agency_get,
    agency_serving,
    official_roles,
    procedure_current,
    procedures_of_kind,
    version_get,
)
from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.calendar import work_calendar
from motcua.core.errors import NotFound
from motcua.dossiers.declaration import known_facts, prefill
from motcua.dossiers.effects import effect_label, effect_outcome
from motcua.dossiers.models import (
    CLOSED,
    Apology,
    Dossier,
    DossierEffect,
    DossierEvent,
    DossierFile,
)
from motcua.dossiers.papers import PaperNeed, papers_needed
from motcua.dossiers.services import actor_roles, is_overdue
from motcua.identity.selectors import contact_of
from motcua.registry.selectors import (
    VIEW_PERMISSION,
    CitizenRecord,
    citizen_get,
    life_event_label,
    life_events_by_reference,
)


@dataclass(frozen=True)
class DossierRow:
    id: int
    code: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    status: str
    status_label: str
    submitted_at: datetime
    due_on: date
    overdue: bool
    late: bool


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _row(values: dict[str, Any], today: date) -> DossierRow:
    return DossierRow(
        id=values["id"],
        code=values["code"],
        procedure_code=values["procedure_code"],
        procedure_name=values["procedure_name"],
        applicant_name=values["applicant_name"],
        status=values["status"],
        status_label=_status_label(values["status"]),
        submitted_at=values["submitted_at"],
        due_on=values["due_on"],
        overdue=values["finished_at"] is None
        and values["status"] != Status.SUPPLEMENT_REQUESTED
        and today > values["due_on"],
        late=values["late"],
    )


ROW_FIELDS = (
    "id",
    "code",
    "procedure_code",
    "applicant_name",
    "status",
    "submitted_at",
    "due_on",
    "finished_at",
    "late",
)


def _rows(queryset: QuerySet[Dossier]) -> list[DossierRow]:
    today = timezone.localdate()
    values = queryset.values(*ROW_FIELDS, procedure_name=_snapshot_name())
    return [_row(v, today) for v in values]


def _snapshot_name() -> Any:
    return F("procedure_version__snapshot__name")


# --- the citizen's dossiers ---------------------------------------------------------------------


def dossiers_of(*, actor: Actor, limit: int = 100) -> list[DossierRow]:
    if actor.kind != "citizen" or not actor.pin:
        return []
    return _rows(Dossier.objects.filter(applicant_pin=actor.pin).order_by("-submitted_at")[:limit])


# --- one dossier --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileView:
    id: int
    component: str
    purpose: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    storage_name: str


@dataclass(frozen=True)
class EventView:
    action: str
    source: str
    target: str
    target_label: str
    actor: str
    at: datetime
    note: str


@dataclass(frozen=True)
class ApologyView:
    id: int
    previous_due: date
    new_due: date
    reason: str
    issued_by: str
    issued_at: datetime


@dataclass(frozen=True)
class DossierDetail:
    row: DossierRow
    procedure: ProcedureSnapshot
    agency_id: int
    agency_name: str
    agency_code: str
    national_status: int
    declaration: dict[str, Any]
    fee: int
    fee_exemption: str
    papers: list[PaperNeed]
    files: list[FileView]
    events: list[EventView]
    apologies: list[ApologyView]
    assignee: str
    result_code: str
    paused_on: date | None
    supplement_requests: int
    version: int
    roles: frozenset[str]
    actions: list[TransitionView]
    may_apologize: bool
    rating: tuple[int, str] | None
    applicant: CitizenRecord | None = None  # the registry record, for officials
    extra: dict[str, Any] = field(default_factory=dict)
    # What the decision changed in the state's records, and the registry's life events that
    # name this dossier as their legal basis.
    effects: list[EffectView] = field(default_factory=list)
    life_events: list[LifeEventView] = field(default_factory=list)


@dataclass(frozen=True)
class EffectView:
    name: str
    label: str  # the effect in a few words
    text: str  # what it did, with what it produced ("…số định danh cá nhân của trẻ: 0822…")
    outputs: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class LifeEventView:
    pin: str
    kind: str
    kind_label: str
    occurred_on: date


def _effects(dossier: Dossier) -> list[EffectView]:
    return [
        EffectView(e.name, effect_label(e.name), effect_outcome(e.name, e.outputs), e.outputs, e.at)
        for e in DossierEffect.objects.filter(dossier=dossier).order_by("at", "id")
    ]


def _life_events(actor: Actor, dossier: Dossier, purpose: str) -> list[LifeEventView]:
    """The registry's events recorded under this dossier (a birth, a death, a move); an
    official's look at them goes into each person's access log."""
    events = life_events_by_reference(reference=dossier.code)
    if events and actor.kind == "official":
        access_log_record(
            actor=actor,
            subject_pins=[e.pin for e in events],
            data="registry.life_events",
            purpose=purpose,
        )
    return [LifeEventView(e.pin, e.kind, life_event_label(e.kind), e.occurred_on) for e in events]


def _visible(actor: Actor, dossier_id: int) -> tuple[Dossier, frozenset[str]]:
    """The dossier if the actor is its applicant or an official of its agency; outsiders learn
    nothing, not even that it exists."""
    dossier = Dossier.objects.filter(pk=dossier_id).select_related("rating").first()
    roles = actor_roles(actor, dossier) if dossier else frozenset()
    if dossier is None or not roles:
        raise NotFound(_("Không có hồ sơ"))
    return dossier, roles


def dossier_detail(*, actor: Actor, dossier_id: int) -> DossierDetail:
    dossier, roles = _visible(actor, dossier_id)
    snapshot = version_get(dossier.procedure_version_id)
    agency = agency_get(dossier.agency_id)
    today = timezone.localdate()
    applicant = None
    purpose = gettext_noop("Giải quyết hồ sơ %(code)s") % {"code": dossier.code}
    if actor.kind == "official":
        access_log_record(
            actor=actor,
            subject_pins=[dossier.applicant_pin],
            data="dossiers.dossier",
            purpose=purpose,
        )
        if actor.can(VIEW_PERMISSION):  # officials without it process without the record
            applicant = citizen_get(actor=actor, pin=dossier.applicant_pin, purpose=purpose)
    overdue = is_overdue(dossier, today)
    return DossierDetail(
        row=_row(
            {f: getattr(dossier, f) for f in ROW_FIELDS} | {"procedure_name": snapshot.name},
            today,
        ),
        procedure=snapshot,
        agency_id=agency.id,
        agency_name=agency.name,
        agency_code=agency.code,
        national_status=NATIONAL_CODES[dossier.status],
        declaration=dossier.declaration,
        fee=dossier.fee,
        fee_exemption=dossier.fee_exemption,
        papers=papers_needed(snapshot, dossier.applicant_pin),
        files=_files(dossier),
        events=_events(dossier),
        apologies=_apologies(dossier),
        assignee=dossier.assignee,
        result_code=dossier.result_code,
        paused_on=dossier.paused_on,
        supplement_requests=dossier.supplement_requests,
        version=dossier.version,
        roles=roles,
        actions=[]
        if overdue
        else [t for t in snapshot.actions_from(dossier.status) if roles & set(t.roles)],
        may_apologize=overdue and bool(roles & {"receiver", "approver"}),
        rating=_rating(dossier),
        applicant=applicant,
        effects=_effects(dossier),
        life_events=_life_events(actor, dossier, purpose),
    )


def _rating(dossier: Dossier) -> tuple[int, str] | None:
    rating = getattr(dossier, "rating", None)
    return (rating.score, rating.comment) if rating else None


def _files(dossier: Dossier, file_id: int | None = None) -> list[FileView]:
    files = DossierFile.objects.filter(dossier=dossier).order_by("id")
    if file_id is not None:
        files = files.filter(pk=file_id)
    return [
        FileView(
            id=f.pk,
            component=f.component,
            purpose=f.purpose,
            original_name=f.original_name,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            uploaded_at=f.uploaded_at,
            storage_name=f.storage_name,
        )
        for f in files
    ]


def _events(dossier: Dossier) -> list[EventView]:
    return [
        EventView(
            action=e.action,
            source=e.source,
            target=e.target,
            target_label=_status_label(e.target),
            actor=e.actor,
            at=e.at,
            note=e.note,
        )
        for e in DossierEvent.objects.filter(dossier=dossier)
    ]


def _apologies(dossier: Dossier) -> list[ApologyView]:
    return [
        ApologyView(a.pk, a.previous_due, a.new_due, a.reason, a.issued_by, a.issued_at)
        for a in Apology.objects.filter(dossier=dossier).order_by("id")
    ]


def dossier_file(*, actor: Actor, dossier_id: int, file_id: int) -> FileView:
    """One file of a dossier the actor may see; an official's read is in the access log."""
    dossier, _agency = _visible(actor, dossier_id)
    found = _files(dossier, file_id)
    if not found:
        raise NotFound(_("Không có tệp"))
    access_log_record(
        actor=actor,
        subject_pins=[dossier.applicant_pin],
        data="dossiers.file",
        purpose=gettext_noop("Xem giấy tờ hồ sơ %(code)s") % {"code": dossier.code},
    )
    return found[0]


# --- the agency's queue -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    overdue: bool = False
    due_soon: bool = False
    procedure: str = ""
    query: str = ""


@dataclass(frozen=True)
class QueuePage:
    agency_id: int
    agency_name: str
    rows: list[DossierRow]
    total: int
    page: int
    pages: int
    procedures: list[tuple[str, str]]


DUE_SOON_DAYS = 2


def _filtered(agency_id: int, chosen: QueueFilter) -> QuerySet[Dossier]:
    return _chosen(Dossier.objects.filter(agency_id=agency_id).exclude(status__in=CLOSED), chosen)


def agencies_served(actor: Actor) -> list[tuple[int, str]]:
    """The agencies whose queue the official may open."""
    if actor.kind != "official":
        return []
    return [(pk, agency_get(pk).name) for pk in sorted(official_roles(actor.ref))]


def dossier_queue(
    *, actor: Actor, agency_id: int, chosen: QueueFilter, page: int = 1, page_size: int = 50
) -> QueuePage:
    """The agency's open dossiers, most urgent first. A constant number of queries whatever the
    page size: the rows come in one, with their procedure names from the version snapshot."""
    if actor.kind != "official" or agency_id not in official_roles(actor.ref):
        raise NotFound(_("Không có cơ quan"))
    page_size = max(1, min(page_size, 200))
    rows = _filtered(agency_id, chosen)
    total = rows.count()
    pages = max(1, -(-total // page_size))
    page = max(1, min(page, pages))
    start = (page - 1) * page_size
    agency_name = agency_get(agency_id).name
    today = timezone.localdate()
    values = list(
        _page_of(rows, start, page_size).values(
            *ROW_FIELDS, "applicant_pin", procedure_name=_snapshot_name()
        )
    )
    if chosen.query.strip():
        # A search by receipt code or PIN is a lookup of people: each applicant it shows is
        # in their access log (browsing the agency's own queue is its daily work, not a lookup).
        access_log_record(
            actor=actor,
            subject_pins=[v["applicant_pin"] for v in values],
            data="dossiers.queue_search",
            purpose=gettext_noop("Tìm hồ sơ trong hàng đợi của %(agency_name)s")
            % {"agency_name": agency_name},
        )
    return QueuePage(
        agency_id=agency_id,
        agency_name=agency_name,
        rows=[_row(v, today) for v in values],
        total=total,
        page=page,
        pages=pages,
        procedures=_procedures_of(agency_id),
    )


def _page_of(rows: QuerySet[Dossier], start: int, size: int) -> QuerySet[Dossier]:
    """The page's ids first, from the queue index alone; only those rows are then read in full,
    so a deep page does not project every row it skips."""
    urgent_first = ("due_on", "id")
    ids = rows.order_by(*urgent_first).values("id")[start : start + size]
    return Dossier.objects.filter(id__in=Subquery(ids)).order_by(*urgent_first)


def _procedures_of(agency_id: int) -> list[tuple[str, str]]:
    """The procedures this kind of agency handles, for the queue's filter."""
    return procedures_of_kind(agency_get(agency_id).kind)


# --- starting a submission ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionStart:
    """What the submit page shows: the form pre-filled from the registry, which fields the
    registry fixes, which papers the state holds, the agencies to choose from."""

    procedure: ProcedureSnapshot
    prefilled: dict[str, Any]
    locked: set[str]
    papers: list[PaperNeed]
    agencies: list[AgencyView]
    default_agency_id: int | None


def submission_start(*, actor: Actor, procedure_code: str) -> SubmissionStart:
    if actor.kind != "citizen" or not actor.pin:
        raise NotFound(_("Đăng nhập để nộp hồ sơ"))
    procedure = procedure_current(procedure_code)
    record = citizen_get(
        actor=actor,
        pin=actor.pin,
        purpose=gettext_noop("Nộp hồ sơ %(code)s") % {"code": procedure.code},
    )
    prefilled, locked = prefill(procedure.form_schema, known_facts(record, contact_of(record.pin)))
    wards = [r.ward for r in sorted(record.residences, key=lambda r: r.kind != "temporary")]
    default = agency_serving(procedure.agency_kind, wards)
    return SubmissionStart(
        procedure=procedure,
        prefilled=prefilled,
        locked=locked,
        papers=papers_needed(procedure, record.pin),
        agencies=agencies_of_kind(procedure.agency_kind),
        default_agency_id=default.id if default else None,
    )


def papers_of(*, actor: Actor, procedure_code: str) -> list[PaperNeed] | None:
    """For a signed-in citizen, which of the procedure's papers the state holds for them."""
    if actor.kind != "citizen" or not actor.pin:
        return None
    return papers_needed(procedure_current(procedure_code), actor.pin)


# --- the portal: open dossiers, the agency of one's residence, the lookup by receipt code --------


def open_dossiers_of(*, actor: Actor, procedure_code: str) -> list[DossierRow]:
    """The citizen's dossiers of this procedure that are still being handled: the portal warns
    before a second submission of the same thing."""
    if actor.kind != "citizen" or not actor.pin:
        return []
    return _rows(
        Dossier.objects.filter(applicant_pin=actor.pin, procedure_code=procedure_code)
        .exclude(status__in=CLOSED)
        .order_by("-submitted_at")[:10]
    )


@dataclass(frozen=True)
class AgencyDefault:
    """The agency the submit form proposes, and why: the one serving the ward where the citizen
    lives permanently, else temporarily."""

    agency_id: int
    agency_name: str
    ward_name: str
    residence: str  # "permanent" or "temporary"


def submission_agency_default(*, actor: Actor, procedure_code: str) -> AgencyDefault | None:
    if actor.kind != "citizen" or not actor.pin:
        return None
    procedure = procedure_current(procedure_code)
    record = citizen_get(
        actor=actor,
        pin=actor.pin,
        purpose=gettext_noop("Nộp hồ sơ %(code)s") % {"code": procedure.code},
    )
    today = timezone.localdate()
    current = [r for r in record.residences if r.valid_to is None or r.valid_to >= today]
    for kind in ("permanent", "temporary"):
        for residence in (r for r in current if r.kind == kind):
            agency = agency_serving(procedure.agency_kind, [residence.ward])
            if agency is not None:
                return AgencyDefault(agency.id, agency.name, residence.ward_name, kind)
    return None


@dataclass(frozen=True)
class DossierStatusView:
    """What anyone holding a receipt code and its applicant's PIN may see: no personal data."""

    code: str
    procedure_name: str
    status: str
    status_label: str
    agency_name: str
    received_on: date
    due_on: date
    finished_on: date | None
    overdue: bool


def dossier_status_lookup(*, code: str, pin: str) -> DossierStatusView | None:
    """A dossier's progress by its receipt code and the applicant's PIN, without signing in (as
    the national portal offers). None unless both match, so a wrong code and a wrong PIN get the
    same answer. The look-up shows in the applicant's "who read my data"."""
    code, pin = code.strip(), pin.strip()
    if not code or not pin:
        return None
    values = (
        Dossier.objects.filter(code=code, applicant_pin=pin)
        .values(*ROW_FIELDS, "agency_id", procedure_name=_snapshot_name())
        .first()
    )
    if values is None:
        return None
    row = _row(values, timezone.localdate())
    access_log_record(
        actor=Actor(kind="system", ref="tra-cuu-ho-so"),
        subject_pins=[pin],
        data=gettext_noop("Tình trạng hồ sơ"),
        purpose=gettext_noop("Tra cứu hồ sơ %(code)s bằng mã biên nhận và số định danh")
        % {"code": row.code},
    )
    finished = values["finished_at"]
    return DossierStatusView(
        code=row.code,
        procedure_name=row.procedure_name,
        status=row.status,
        status_label=row.status_label,
        agency_name=agency_get(values["agency_id"]).name,
        received_on=timezone.localdate(row.submitted_at),
        due_on=row.due_on,
        finished_on=timezone.localdate(finished) if finished else None,
        overdue=row.overdue,
    )


# --- the back office's work lists: waiting for me, waiting for my agency ------------------------
# (appended for issue 14: who acts next on each dossier, the lists paged and exported; the
# imports here keep this part whole on its own while the top of the module is being reworked)
from django.utils.translation import gettext as _  # noqa: E402, F811, RUF100
from django.utils.translation import gettext_noop  # noqa: E402, F811, RUF100

CITIZEN_ROLE = "citizen"


@dataclass(frozen=True)
class WorkRow:
    """One dossier of a work list, with who acts next: the roles of the steps its workflow
    allows from its status (in words), and the assigned processing officer when there is one."""

    row: DossierRow
    agency_id: int
    agency_name: str
    next_roles: tuple[str, ...]
    next_label: str
    assignee: str
    assignee_name: str


@dataclass(frozen=True)
class WorkList:
    """The rows of a work list as a sequence: its length is one count, and a slice reads only
    that slice (so that one paging helper serves every list). Each slice read logs what it
    shows when the list is a search or an export (a lookup of people, not the daily work)."""

    total: int
    fetch: Any  # Callable[[int, int], list[WorkRow]]
    procedures: list[tuple[str, str]]

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> list[WorkRow]:
        start, stop, _step = index.indices(self.total)
        return self.fetch(start, stop) if stop > start else []


def _role_label(role: str) -> str:
    from motcua.catalog.selectors import Role

    if role == CITIZEN_ROLE:
        return _("Công dân")
    return str(Role(role).label) if role in Role.values else role


def _acting(snapshot: ProcedureSnapshot, status: str) -> tuple[str, ...]:
    """Who takes the next step from this status: the officials' roles, or the citizen when only
    the citizen can move it (a supplement); the citizen's withdrawal is not a next step."""
    roles: list[str] = []
    for transition in snapshot.actions_from(status):
        roles += [r for r in transition.roles if r not in roles]
    officials = tuple(r for r in roles if r != CITIZEN_ROLE)
    return officials or tuple(roles)


def _mine(actor: Actor, rows: QuerySet[Dossier], served: dict[int, frozenset[str]]) -> Q:
    """The dossiers whose next step is one of the official's roles at their agency; a step of
    the processing officer only when the dossier is theirs or nobody's yet."""
    wanted = Q(pk__in=[])
    versions = rows.values_list("procedure_version_id", flat=True).distinct()
    snapshots = [version_get(v) for v in versions]
    for agency_id, roles in served.items():
        for snapshot in snapshots:
            statuses = {s for t in snapshot.transitions for s in t.sources}
            for status in statuses:
                mine = roles & set(_acting(snapshot, status))
                if not mine:
                    continue
                here = Q(
                    agency_id=agency_id, procedure_version_id=snapshot.version_id, status=status
                )
                if mine == {"processor"}:
                    here &= Q(assignee="") | Q(assignee=actor.ref)
                wanted |= here
    return wanted


def dossier_worklist(
    *,
    actor: Actor,
    agency_id: int | None = None,
    mine: bool = False,
    chosen: QueueFilter | None = None,
    export: bool = False,
) -> WorkList:
    """The open dossiers of one of the official's agencies (agency_id), or of all of them
    waiting for the official themselves (mine), most urgent first, each with who acts next.
    A search (chosen.query) or an export logs each applicant the rows read show."""
    if actor.kind != "official":
        raise NotFound(_("Không có cơ quan"))
    served = official_roles(actor.ref)
    if agency_id is not None:
        if agency_id not in served:
            raise NotFound(_("Không có cơ quan"))
        served = {agency_id: served[agency_id]}
    chosen = chosen or QueueFilter()
    filtered = _chosen(
        Dossier.objects.filter(agency_id__in=list(served)).exclude(status__in=CLOSED), chosen
    )
    if mine:
        filtered = filtered.filter(_mine(actor, filtered, served))
    total = filtered.count()
    names = {pk: agency_get(pk).name for pk in served}
    procedures = _procedures_of(agency_id) if agency_id is not None else []

    def fetch(start: int, stop: int) -> list[WorkRow]:
        today = timezone.localdate()
        values = list(
            _page_of(filtered, start, stop - start).values(
                *ROW_FIELDS,
                "applicant_pin",
                "agency_id",
                "assignee",
                "procedure_version_id",
                procedure_name=_snapshot_name(),
            )
        )
        officials: dict[str, str] = {}
        for agency in {v["agency_id"] for v in values if v["assignee"]}:
            officials.update(dict(officials_of_agency(agency)))
        if export or chosen.query.strip():
            where = names[agency_id] if agency_id is not None else _("hồ sơ chờ tôi xử lý")
            access_log_record(
                actor=actor,
                subject_pins=[v["applicant_pin"] for v in values],
                data="dossiers.queue_export" if export else "dossiers.queue_search",
                purpose=(
                    gettext_noop("Xuất danh sách hồ sơ của %(agency_name)s")
                    if export
                    else gettext_noop("Tìm hồ sơ trong hàng đợi của %(agency_name)s")
                )
                % {"agency_name": where},
            )
        found = []
        for v in values:
            roles = _acting(version_get(v["procedure_version_id"]), v["status"])
            labels = []
            for role in roles:
                label = _role_label(role)
                if role == "processor" and v["assignee"]:
                    label = f"{label}: {officials.get(v['assignee'], v['assignee'])}"
                labels.append(label)
            found.append(
                WorkRow(
                    row=_row(v, today),
                    agency_id=v["agency_id"],
                    agency_name=names.get(v["agency_id"], ""),
                    next_roles=roles,
                    next_label=", ".join(labels),
                    assignee=v["assignee"],
                    assignee_name=officials.get(v["assignee"], v["assignee"]),
                )
            )
        return found

    return WorkList(total=total, fetch=fetch, procedures=procedures)


def _chosen(rows: QuerySet[Dossier], chosen: QueueFilter) -> QuerySet[Dossier]:
    today = timezone.localdate()
    if chosen.status:
        rows = rows.filter(status=chosen.status)
    if chosen.overdue:
        rows = rows.filter(due_on__lt=today, finished_at__isnull=True).exclude(
            status=Status.SUPPLEMENT_REQUESTED
        )
    if chosen.due_soon:
        soon = work_calendar().add_working_days(today, DUE_SOON_DAYS)
        rows = rows.filter(due_on__gte=today, due_on__lte=soon, finished_at__isnull=True).exclude(
            status=Status.SUPPLEMENT_REQUESTED
        )
    if chosen.procedure:
        rows = rows.filter(procedure_code=chosen.procedure)
    if query := chosen.query.strip():
        rows = rows.filter(Q(code=query) | Q(applicant_pin=query) | Q(code__startswith=query))
    return rows


def officials_of_agency(agency_id: int) -> list[tuple[str, str]]:
    """(username, full name) of every official of the agency, whatever their role."""
    from motcua.catalog.selectors import officials_of

    seen: dict[str, str] = {}
    for role in ("receiver", "processor", "approver", "clerk"):
        seen.update(dict(officials_of(agency_id, role)))
    return sorted(seen.items())


def role_label(role: str) -> str:
    """A role in words (the citizen's too)."""
    return _role_label(role)


# --- partner portals: a dossier by its receipt code, the events since a cursor ------------------
# (appended for issue 15's exchange API and its status webhooks)


def dossier_id_by_code(*, actor: Actor, code: str) -> int:
    """The id of the dossier with this receipt code, if the actor may see it (its applicant or
    an official of its agency); anyone else gets NotFound, as for an unknown code."""
    dossier = Dossier.objects.filter(code=code.strip()).first()
    if dossier is None or not actor_roles(actor, dossier):
        raise NotFound(_("Không có hồ sơ"))
    return dossier.pk


@dataclass(frozen=True)
class DossierEventRow:
    """One step of some dossier's timeline, for systems that follow every dossier's changes."""

    id: int
    dossier_code: str
    package_code: str  # "" unless the dossier is a step of a linked package
    action: str
    source: str
    target: str
    at: datetime
    due_on: date  # the dossier's appointment now


def dossier_events_since(*, after_id: int, limit: int = 500) -> list[DossierEventRow]:
    """Timeline events with an id above `after_id`, oldest first. Ids are given when a step
    starts, so a step committing late may show up behind a later id: callers re-read a little
    behind their cursor."""
    values = (
        DossierEvent.objects.filter(id__gt=after_id)
        .order_by("id")
        .values(
            "id",
            "action",
            "source",
            "target",
            "at",
            dossier_code=F("dossier__code"),
            due_on=F("dossier__due_on"),
            package_code=F("dossier__package_step__package__code"),
        )[: max(1, min(limit, 5000))]
    )
    return [
        DossierEventRow(
            id=v["id"],
            dossier_code=v["dossier_code"],
            package_code=v["package_code"] or "",
            action=v["action"],
            source=v["source"],
            target=v["target"],
            at=v["at"],
            due_on=v["due_on"],
        )
        for v in values
    ]


# --- linked packages and proactive offers (dossiers/packages.py, offers.py) ---------------------
from motcua.dossiers.offers import OfferView as OfferView  # noqa: E402
from motcua.dossiers.offers import offer_counts as offer_counts  # noqa: E402
from motcua.dossiers.offers import offer_get as offer_get  # noqa: E402
from motcua.dossiers.offers import offer_key as offer_key  # noqa: E402
from motcua.dossiers.offers import offer_rules as offer_rules  # noqa: E402
from motcua.dossiers.offers import offers_of as offers_of  # noqa: E402
from motcua.dossiers.packages import PackageContext as PackageContext  # noqa: E402
from motcua.dossiers.packages import PackageView as PackageView  # noqa: E402
from motcua.dossiers.packages import StepView as StepView  # noqa: E402
from motcua.dossiers.packages import package_detail as package_detail  # noqa: E402
from motcua.dossiers.packages import package_of_dossier as package_of_dossier  # noqa: E402
from motcua.dossiers.packages import packages_of as packages_of  # noqa: E402


def package_id_by_code(*, actor: Actor, code: str) -> int:
    """The id of the citizen's own linked package with this code (for partner portals, which
    know packages by code); anyone else's is not found, as an unknown code."""
    from motcua.dossiers.models import Package

    row = Package.objects.filter(code=code.strip()).values_list("id", "applicant_pin").first()
    if row is None or actor.kind != "citizen" or actor.pin != row[1]:
        raise NotFound(_("Không có hồ sơ liên thông"))
    return int(row[0])
