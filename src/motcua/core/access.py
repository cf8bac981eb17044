"""The access log: every read of a person's data by someone else, shown to that person later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from motcua.core.actors import Actor
from motcua.core.models import AccessLog


def access_log_record(*, actor: Actor, subject_pins: Iterable[str], data: str, purpose: str) -> int:
    """Record that `actor` read `data` of each person; reads of one's own data are not logged."""
    rows = [
        AccessLog(
            subject_pin=pin, actor=actor.label, actor_kind=actor.kind, data=data, purpose=purpose
        )
        for pin in dict.fromkeys(subject_pins)
        if pin != actor.pin
    ]
    if connection.in_atomic_block:
        AccessLog.objects.bulk_create(rows)  # commits with the caller's transaction
    elif rows:
        _insert_without_waiting_for_flush(rows)
    return len(rows)


def _insert_without_waiting_for_flush(rows: list[AccessLog]) -> None:
    """A read on its own commits without waiting for the WAL flush (3-9 ms on this disk), which
    would otherwise dominate every lookup. A crash can lose at most the last fraction of a second
    of read records (PostgreSQL flushes them within 3 x wal_writer_delay); nothing else is at
    risk, since the transaction changes no data. One statement, one round trip (migration 0003)."""
    first = rows[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT motcua_access_log_add(%s, %s, %s, %s, %s)",
            [
                [r.subject_pin for r in rows],
                first.actor,
                first.actor_kind,
                first.data,
                first.purpose,
            ],
        )


def access_log_of(
    *,
    pin: str,
    since: datetime | None = None,
    until: datetime | None = None,
    reader: str = "",
    limit: int = 200,
) -> list[AccessLog]:
    """Who read this person's data, newest first; `reader` filters by part of the reader's name."""
    rows = AccessLog.objects.filter(subject_pin=pin)
    if since:
        rows = rows.filter(at__gte=since)
    if until:
        rows = rows.filter(at__lt=until)
    if reader:
        rows = rows.filter(actor__icontains=reader)
    return list(rows.order_by("-at")[:limit])
