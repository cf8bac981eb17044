"""Reads of the catalog, as plain data: procedures (by their published versions), agencies and
officials' roles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from motcua.catalog.models import (
    AGENCY_CODE,
    CITIZEN,
    NATIONAL_CODES,
    Agency,
    AgencyKind,
    EidLevel,
    Official,
    Procedure,
    ProcedureVersion,
    Role,
    ServiceLevel,
    Source,
    Status,
)
from motcua.catalog.search import Entry, Index
from motcua.core.errors import NotFound
from motcua.geo.selectors import units_get

# The workflow's vocabulary, published for the apps that process dossiers.
__all__ = [
    "AGENCY_CODE",
    "CITIZEN",
    "NATIONAL_CODES",
    "AgencyKind",
    "Role",
    "Source",
    "Status",
]

# Papers the state holds whatever the citizen's history: the registry has them for everyone.
REGISTRY_SOURCES = frozenset(
    {
        Source.REGISTRY_IDENTITY,
        Source.REGISTRY_RESIDENCE,
        Source.REGISTRY_HOUSEHOLD,
        Source.REGISTRY_CIVIL_STATUS,
    }
)
# Papers the state may hold: an earlier result or a wallet document of this citizen.
HELD_IF_PRESENT = frozenset({Source.RESULT, Source.WALLET})


# --- labels: what a page shows instead of a code ----------------------------------------------


def status_label(status: str) -> str:
    """A dossier status in words ("Đang xử lý" for `processing`)."""
    return str(Status(status).label) if status in Status.values else status


def agency_kind_label(kind: str) -> str:
    return str(AgencyKind(kind).label) if kind in AgencyKind.values else kind


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def source_label(source: str) -> str:
    """Who holds a paper, in words."""
    return str(Source(source).label) if source in Source.values else source


def service_level_label(level: int) -> str:
    return str(ServiceLevel(level).label) if level in ServiceLevel.values else str(level)


def eid_level_label(level: int) -> str:
    """The e-ID level a procedure asks for, in words ("Mức 2")."""
    return str(EidLevel(level).label) if level in EidLevel.values else str(level)


@dataclass(frozen=True)
class ComponentView:
    code: str
    name: str
    name_en: str
    required: bool
    source: str
    source_ref: str

    @property
    def source_label(self) -> str:
        return source_label(self.source)

    @property
    def held_by_registry(self) -> bool:
        return self.source in REGISTRY_SOURCES

    @property
    def is_paper(self) -> bool:
        """A paper the citizen would bring or upload if nobody held it (not the form)."""
        return self.source != Source.FORM


@dataclass(frozen=True)
class TransitionView:
    action: str
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    note_required: bool
    # What taking the step changes in other apps' records (names of `EFFECTS`), in order.
    effects: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The step's name in the reader's language (the data holds it in Vietnamese)."""
        return pgettext("workflow step", self.name)


@dataclass(frozen=True)
class ProcedureSnapshot:
    """A procedure as published in one version: what a dossier is processed under."""

    version_id: int
    number: int
    code: str
    name: str
    name_en: str
    field: str
    agency_kind: str
    legal_basis: str
    days: int
    civil_status: bool
    fee: int
    fee_exemptions: tuple[dict[str, Any], ...]
    service_level: int
    essential_no: int | None
    form_schema: dict[str, Any]
    components: tuple[ComponentView, ...]
    transitions: tuple[TransitionView, ...]
    min_eid_level: int = 2  # versions published before levels were stated ask for level 2

    @property
    def form_fields(self) -> list[tuple[str, dict[str, Any]]]:
        """The declaration's fields in the form's order (jsonb keeps no key order, so the
        order is stored beside them as `x-order`)."""
        return ordered_fields(self.form_schema)

    @property
    def agency_kind_label(self) -> str:
        return agency_kind_label(self.agency_kind)

    @property
    def service_level_label(self) -> str:
        return service_level_label(self.service_level)

    @property
    def min_eid_level_label(self) -> str:
        return eid_level_label(self.min_eid_level)

    def transition(self, action: str) -> TransitionView | None:
        return next((t for t in self.transitions if t.action == action), None)

    def actions_from(self, status: str) -> list[TransitionView]:
        return [t for t in self.transitions if status in t.sources]

    @property
    def papers(self) -> int:
        return sum(1 for c in self.components if c.is_paper)

    @property
    def papers_dropped(self) -> int:
        """Papers nobody uploads any more: the registry holds them for everyone."""
        return sum(1 for c in self.components if c.held_by_registry)


def ordered_fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    properties: dict[str, Any] = schema.get("properties", {})
    order = [name for name in schema.get("x-order", []) if name in properties]
    order += [name for name in properties if name not in order]
    return [(name, properties[name]) for name in order]


def snapshot_of(version_id: int, number: int, data: dict[str, Any]) -> ProcedureSnapshot:
    effects: dict[str, list[str]] = data.get("effects") or {}  # none before effects existed
    return ProcedureSnapshot(
        version_id=version_id,
        number=number,
        code=data["code"],
        name=data["name"],
        name_en=data["name_en"],
        field=data["field"],
        agency_kind=data["agency_kind"],
        legal_basis=data["legal_basis"],
        days=data["days"],
        civil_status=data["civil_status"],
        fee=data["fee"],
        fee_exemptions=tuple(data["fee_exemptions"]),
        service_level=data["service_level"],
        essential_no=data["essential_no"],
        min_eid_level=data.get("min_eid_level", 2),
        form_schema=data["form_schema"],
        components=tuple(ComponentView(**c) for c in data["components"]),
        transitions=tuple(
            TransitionView(
                action=t["action"],
                name=t["name"],
                sources=tuple(t["sources"]),
                target=t["target"],
                roles=tuple(t["roles"]),
                note_required=t["note_required"],
                effects=tuple(effects.get(t["action"], ())),
            )
            for t in data["workflow"]["transitions"]
        ),
    )


@lru_cache(maxsize=1)
def effect_vocabulary() -> dict[str, dict[str, str]]:
    """The effects a procedure may name, with what each does and which app owns it (data:
    catalog/data/effects.json). The dossiers app implements each one."""
    path = Path(__file__).parent / "data" / "effects.json"
    vocabulary: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["effects"]
    return vocabulary


@lru_cache(maxsize=1024)
def version_get(version_id: int) -> ProcedureSnapshot:
    """Versions never change once published, so each process keeps the ones it has read."""
    row = ProcedureVersion.objects.filter(pk=version_id).values("number", "snapshot").first()
    if row is None:
        raise NotFound(_("Không có phiên bản thủ tục %(version_id)s") % {"version_id": version_id})
    return snapshot_of(version_id, row["number"], row["snapshot"])


def procedure_current(code: str) -> ProcedureSnapshot:
    """The version a new dossier is submitted under."""
    pk = (
        _current_versions()
        .filter(procedure__code=code, procedure__active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise NotFound(_("Không có thủ tục: %(code)s") % {"code": code})
    return version_get(pk)


def _current_versions() -> QuerySet[ProcedureVersion]:
    return ProcedureVersion.objects.filter(number=F("procedure__current_version"))


@dataclass(frozen=True)
class ProcedureSummary:
    code: str
    name: str
    name_en: str
    field: str
    days: int
    fee: int
    service_level: int
    essential_no: int | None
    papers: int
    papers_dropped: int
    min_eid_level: int = 2

    @property
    def service_level_label(self) -> str:
        return service_level_label(self.service_level)

    @property
    def min_eid_level_label(self) -> str:
        return eid_level_label(self.min_eid_level)


def procedure_search(query: str = "", *, field: str = "") -> list[ProcedureSummary]:
    """Active procedures for what someone typed, best first: words around the name ("làm giấy
    khai sinh cho con"), no diacritics ("dang ky tam tru"), a typo ("khai snh") or the code
    ("1.001193"). Without a query: every procedure, essential services first."""
    snapshots = _current_snapshots()
    if field:
        snapshots = [s for s in snapshots if s.field == field]
    if not query.strip():
        return [_summary(s) for s in sorted(snapshots, key=_catalog_order)]
    by_code = {s.code: s for s in snapshots}
    # Ranked against the whole catalog (how rare a word is), then kept within the field.
    ranked = _search_index(_current_snapshots()).ranked(query)
    return [_summary(by_code[code]) for code in ranked if code in by_code]


def procedure_suggestions(query: str = "", *, limit: int = 5) -> list[ProcedureSummary]:
    """What to offer when a search finds nothing: the procedures whose names look most like
    the query, else the essential services most people come for."""
    snapshots = _current_snapshots()
    by_code = {s.code: s for s in snapshots}
    codes = _search_index(snapshots).closest(query, limit) if query.strip() else []
    if not codes:
        codes = [s.code for s in sorted(snapshots, key=_catalog_order)][:limit]
    return [_summary(by_code[code]) for code in codes]


def _catalog_order(s: ProcedureSnapshot) -> tuple[int, str]:
    return (s.essential_no or 999, s.name)


def _current_snapshots() -> list[ProcedureSnapshot]:
    versions = _current_versions().filter(procedure__active=True)
    return [version_get(pk) for pk in versions.values_list("pk", flat=True)]


def _search_index(snapshots: list[ProcedureSnapshot]) -> Index:
    entries = tuple(
        sorted(Entry(code=s.code, name=s.name, name_en=s.name_en, field=s.field) for s in snapshots)
    )
    return _index_of(entries)


@lru_cache(maxsize=64)
def _index_of(entries: tuple[Entry, ...]) -> Index:
    return Index(entries)


def _summary(s: ProcedureSnapshot) -> ProcedureSummary:
    return ProcedureSummary(
        code=s.code,
        name=s.name,
        name_en=s.name_en,
        field=s.field,
        days=s.days,
        fee=s.fee,
        service_level=s.service_level,
        essential_no=s.essential_no,
        papers=s.papers,
        papers_dropped=s.papers_dropped,
        min_eid_level=s.min_eid_level,
    )


def source_labels() -> dict[str, str]:
    """Who holds a paper, in words."""
    return {str(value): str(label) for value, label in Source.choices}


def procedures_of_kind(kind: str) -> list[tuple[str, str]]:
    """(code, name) of the active procedures an agency of this kind handles."""
    return list(
        Procedure.objects.filter(active=True, agency_kind=kind)
        .order_by("name")
        .values_list("code", "name")
    )


def procedure_fields() -> list[str]:
    return list(
        Procedure.objects.filter(active=True)
        .order_by("field")
        .values_list("field", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class OnceOnlyReport:
    procedures: list[ProcedureSummary]
    papers: int
    papers_dropped: int

    @property
    def share_dropped(self) -> float:
        return self.papers_dropped / self.papers if self.papers else 0.0


def once_only_report() -> OnceOnlyReport:
    """Per procedure and overall, how many paper components the registry made unnecessary."""
    procedures = procedure_search()
    return OnceOnlyReport(
        procedures=procedures,
        papers=sum(p.papers for p in procedures),
        papers_dropped=sum(p.papers_dropped for p in procedures),
    )


@dataclass(frozen=True)
class AgencyView:
    id: int
    code: str
    name: str
    kind: str
    unit_code: str

    @property
    def kind_label(self) -> str:
        return agency_kind_label(self.kind)


def _agency_view(agency: Agency) -> AgencyView:
    return AgencyView(
        id=agency.pk,
        code=agency.code,
        name=agency.name,
        kind=agency.kind,
        unit_code=agency.unit_code,
    )


def agency_get(agency_id: int) -> AgencyView:
    agency = Agency.objects.filter(pk=agency_id, active=True).first()
    if agency is None:
        raise NotFound(_("Không có cơ quan: %(agency_id)s") % {"agency_id": agency_id})
    return _agency_view(agency)


def agency_by_code(code: str) -> AgencyView:
    agency = Agency.objects.filter(code=code, active=True).first()
    if agency is None:
        raise NotFound(_("Không có cơ quan: %(code)s") % {"code": code})
    return _agency_view(agency)


def agencies_of_kind(kind: str) -> list[AgencyView]:
    return [_agency_view(a) for a in Agency.objects.filter(kind=kind, active=True)]


def official_roles(username: str) -> dict[int, frozenset[str]]:
    """Each agency the official works for, with their roles there."""
    roles: dict[int, set[str]] = {}
    for agency_id, role in Official.objects.filter(
        user__username=username, user__is_active=True, agency__active=True
    ).values_list("agency_id", "role"):
        roles.setdefault(agency_id, set()).add(role)
    return {agency: frozenset(r) for agency, r in roles.items()}


def officials_of(agency_id: int, role: str) -> list[tuple[str, str]]:
    """(username, full name) of the agency's officials holding `role`."""
    return [
        (username, f"{first} {last}".strip() or username)
        for username, first, last in Official.objects.filter(
            agency_id=agency_id, role=role, user__is_active=True
        )
        .order_by("user__username")
        .values_list("user__username", "user__first_name", "user__last_name")
    ]


def agency_serving(kind: str, unit_keys: list[str]) -> AgencyView | None:
    """The agency of this kind for the first of these units that has one (a ward, then its
    province): where a citizen's dossier goes by default."""
    units = units_get(unit_keys)
    keys = [*unit_keys, *dict.fromkeys(units[k].province_key for k in unit_keys if k in units)]
    found = {
        a.unit_code: a for a in Agency.objects.filter(kind=kind, active=True, unit_code__in=keys)
    }
    for key in keys:
        if key in found:
            return _agency_view(found[key])
    return None
