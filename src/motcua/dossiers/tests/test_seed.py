"""The synthetic dossiers: a small load checked from every side, then read by the queue."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from motcua.catalog.selectors import AgencyKind, Role
from motcua.catalog.tests.factories import Agency, agencies
from motcua.core.models import AuditEntry, Sequence
from motcua.dossiers.models import CLOSED, FINISHED, Dossier, DossierEvent
from motcua.dossiers.seed import SeedError, dossiers_load
from motcua.dossiers.selectors import QueueFilter, dossier_queue
from motcua.dossiers.tests.factories import agencies_ready, agency_of, catalog_ready, submit
from motcua.dossiers.tests.factories import make_official as official
from motcua.geo.selectors import provinces
from motcua.registry.selectors import household_heads
from motcua.registry.services import population_load

loads = pytest.mark.django_db(transaction=True, serialized_rollback=True)
COUNT, OPEN_IN_COMMUNE = 500, 120


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'dossiers_%'")
        return {row[0] for row in cursor.fetchall()}


@loads
def test_load_writes_consistent_dossiers_that_the_queue_reads() -> None:
    catalog_ready()
    wards = agencies_ready(wards=3)
    population_load(600, province_key=provinces()[0].key, seed=2)
    commune = agency_of(AgencyKind.COMMUNE, wards[0])
    desk = official("seed.canbo", commune, *Role.values)
    tz = ZoneInfo(settings.TIME_ZONE)
    stamp = timezone.localdate().strftime("%y%m%d")
    Sequence.objects.create(scope=f"receipt:{commune.code}:{stamp}", value=7)  # earlier today
    indexes = _index_names()
    seen: list[int] = []

    loaded = dossiers_load(
        COUNT,
        agencies=[a.pk for a in agencies()],
        open_in={commune.pk: OPEN_IN_COMMUNE},
        seed=3,
        progress=seen.append,
        batch_size=200,
    )

    assert loaded == COUNT == Dossier.objects.count() and seen[0] == 0 and seen[-1] == COUNT
    assert _index_names() == indexes  # the dropped indexes are back
    assert AuditEntry.objects.filter(action="dossiers.seed").count() == 1
    dossiers = list(Dossier.objects.select_related("agency", "procedure_version__procedure"))
    assert sum(d.agency_id == commune.pk and d.status not in CLOSED for d in dossiers) == 120
    _check_codes(dossiers, tz, commune, stamp)
    _check_workflow(dossiers, tz)

    # The queue reads them: exactly the open ones, most urgent first, overdue and due soon.
    page = dossier_queue(actor=desk, agency_id=commune.pk, chosen=QueueFilter(), page_size=50)
    assert page.total == OPEN_IN_COMMUNE and len(page.rows) == 50 and page.pages == 3
    assert [r.due_on for r in page.rows] == sorted(r.due_on for r in page.rows)
    overdue = dossier_queue(
        actor=desk, agency_id=commune.pk, chosen=QueueFilter(overdue=True), page_size=200
    )
    due_soon = dossier_queue(
        actor=desk, agency_id=commune.pk, chosen=QueueFilter(due_soon=True), page_size=200
    )
    assert 0 < overdue.total < OPEN_IN_COMMUNE and all(r.overdue for r in overdue.rows)
    assert 0 < due_soon.total < OPEN_IN_COMMUNE and not any(r.overdue for r in due_soon.rows)

    # A real submission continues the agency's numbers of the day.
    pin, _ = household_heads(limit=1)[0]
    before = Sequence.objects.get(scope=f"receipt:{commune.code}:{stamp}").value
    done = submit(SimpleNamespace(pin=pin), commune)
    assert done.code == f"{commune.code}-{stamp}-{before + 1:04d}"


def _check_codes(dossiers: list[Dossier], tz: ZoneInfo, commune: Agency, stamp: str) -> None:
    """AGENCY-YYMMDD-NNNN on the local day of submission, numbered 1, 2, 3 ... per agency and
    day in the order of submission (today's commune numbers after the 7 already given), with the
    counter left at the highest number."""
    by_scope: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for d in dossiers:
        match = re.fullmatch(r"(.+)-(\d{6})-(\d{4,})", d.code)
        assert match and match[1] == d.agency.code, d.code
        assert match[2] == d.submitted_at.astimezone(tz).strftime("%y%m%d")
        by_scope[f"receipt:{match[1]}:{match[2]}"].append((d.submitted_at, int(match[3])))
    counters = dict(Sequence.objects.values_list("scope", "value"))
    for scope, entries in by_scope.items():
        first = 8 if scope == f"receipt:{commune.code}:{stamp}" else 1
        numbers = [number for _, number in sorted(entries)]
        assert numbers == list(range(first, first + len(numbers))), scope
        assert counters[scope] == numbers[-1]


def _check_workflow(dossiers: list[Dossier], tz: ZoneInfo) -> None:
    events = defaultdict(list)
    for e in DossierEvent.objects.order_by("at", "id"):
        events[e.dossier_id].append(e)
    now = timezone.now()
    statuses = set()
    for d in dossiers:
        procedure = d.procedure_version.procedure
        assert procedure.agency_kind == d.agency.kind and d.procedure_code == procedure.code
        timeline = events[d.pk]
        assert timeline[0].action == "submit" and timeline[0].at == d.submitted_at
        assert timeline[-1].target == d.status and len(timeline) == d.version
        assert all(a.target == b.source for a, b in pairwise(timeline))
        assert all(e.at <= now for e in timeline)
        assert (d.finished_at is not None) == (d.status in FINISHED)
        if d.finished_at is not None:
            assert d.finished_at >= d.submitted_at
            if d.finished_at.astimezone(tz).date() > d.due_on:
                assert d.late
        assert (d.paused_on is not None) == (d.status == "supplement_requested")
        assert bool(d.result_code) == (d.status in ("result_issued", "returned"))
        assert d.declaration and d.submitted_at - timedelta(days=731) < now
        statuses.add(d.status)
    assert {"returned", "processing", "submitted"} <= statuses


@loads
def test_bad_arguments_are_refused_before_any_write() -> None:
    catalog_ready()
    wards = agencies_ready(wards=1)
    commune = agency_of(AgencyKind.COMMUNE, wards[0])
    with pytest.raises(SeedError, match="phải lớn hơn 0"):
        dossiers_load(0, agencies=[commune.pk])
    with pytest.raises(SeedError, match="số hồ sơ đang xử lý vượt tổng số"):
        dossiers_load(10, agencies=[commune.pk], open_in={commune.pk: 11})
    with pytest.raises(SeedError, match="Chưa có dân cư"):
        dossiers_load(10, agencies=[commune.pk])
    assert not Dossier.objects.exists()
