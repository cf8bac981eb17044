"""The access log: every read of a person's data by someone else, shown to that person later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from motcua.core.actors import Actor
from motcua.core.models import AccessLog

# Pins sent per statement inside a transaction: a linkage run tells millions of people, and
# one array of at most this many pins keeps each statement small.
BATCH_ROWS = 100_000

# Set-based, as migration 0003's function, but without its synchronous_commit=off, which would
# apply to the caller's whole transaction; 7x faster than bulk_create, which builds every row.
_INSERT = """
INSERT INTO core_accesslog (at, subject_pin, actor, actor_kind, data, purpose)
SELECT now(), pin, %s, %s, %s, %s FROM unnest(%s::text[]) AS pin
"""


def access_log_record(*, actor: Actor, subject_pins: Iterable[str], data: str, purpose: str) -> int:
    """Record that `actor` read `data` of each person; reads of one's own data are not logged."""
    pins = [pin for pin in dict.fromkeys(subject_pins) if pin != actor.pin]
    if connection.in_atomic_block:  # the rows commit with the caller's transaction
        with connection.cursor() as cursor:
            for start in range(0, len(pins), BATCH_ROWS):
                batch = pins[start : start + BATCH_ROWS]
                cursor.execute(_INSERT, [actor.label, actor.kind, data, purpose, batch])
    elif pins:
        _insert_without_waiting_for_flush(pins, actor=actor, data=data, purpose=purpose)
    return len(pins)


def _insert_without_waiting_for_flush(
    pins: list[str], *, actor: Actor, data: str, purpose: str
) -> None:
    """A read on its own commits without waiting for the WAL flush (3-9 ms on this disk), which
    would otherwise dominate every lookup. A crash can lose at most the last fraction of a second
    of read records (PostgreSQL flushes them within 3 x wal_writer_delay); nothing else is at
    risk, since the transaction changes no data. One statement, one round trip (migration 0003)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT motcua_access_log_add(%s, %s, %s, %s, %s)",
            [pins, actor.label, actor.kind, data, purpose],
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
