"""The access log: every read of a person's data by someone else, shown to that person later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from motcua.core.actors import Actor
from motcua.core.models import AccessLog

# Rows built and sent at a time inside a transaction: a linkage run tells millions of people,
# and bulk_create's own batch_size would still build every row first.
BATCH_ROWS = 10_000


def access_log_record(*, actor: Actor, subject_pins: Iterable[str], data: str, purpose: str) -> int:
    """Record that `actor` read `data` of each person; reads of one's own data are not logged."""
    pins = [pin for pin in dict.fromkeys(subject_pins) if pin != actor.pin]
    if connection.in_atomic_block:  # the rows commit with the caller's transaction
        for start in range(0, len(pins), BATCH_ROWS):
            AccessLog.objects.bulk_create(
                AccessLog(
                    subject_pin=pin,
                    actor=actor.label,
                    actor_kind=actor.kind,
                    data=data,
                    purpose=purpose,
                )
                for pin in pins[start : start + BATCH_ROWS]
            )
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
