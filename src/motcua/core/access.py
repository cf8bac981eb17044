"""The access log: every read of a person's data by someone else, shown to that person later."""

from __future__ import annotations

from collections.abc import Iterable

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
    AccessLog.objects.bulk_create(rows)
    return len(rows)


def access_log_of(*, pin: str, limit: int = 200) -> list[AccessLog]:
    return list(AccessLog.objects.filter(subject_pin=pin).order_by("-at")[:limit])
