"""The append-only, hash-chained audit log of every change.

Each entry's hash covers its content and the previous entry's hash, and the single AuditHead row
holds the newest link. An edited row breaks its own hash, a deleted row breaks the next row's
link, and a deleted tail no longer matches the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from motcua.core.actors import Actor
from motcua.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


def _jsonable(value: Any) -> Any:
    """The value as it will come back from a jsonb column, so that hashes are reproducible."""
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    reason: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction, so that the entry commits
    or rolls back with the change it describes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change")
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_hash": GENESIS_HASH}
    )
    entry = AuditEntry(
        pk=_next_entry_id(),
        at=datetime.now(UTC),
        actor=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=head.last_hash,
    )
    entry.hash = _entry_hash(entry.prev_hash, _hashed_fields(entry))
    entry.save(force_insert=True)
    head.last_id, head.last_hash = entry.pk, entry.hash
    head.save(update_fields=["last_id", "last_hash"])
    return entry


def _next_entry_id() -> int:
    """The id is part of the hash, so it is drawn before the insert."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('core_auditentry', 'id'))")
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class AuditProblem:
    entry_id: int | None
    problem: str


def audit_verify(*, batch_size: int = 5000) -> list[AuditProblem]:
    """Walk the whole chain and report every entry that was edited, deleted or inserted."""
    problems: list[AuditProblem] = []
    prev_hash = GENESIS_HASH
    last: AuditEntry | None = None
    for entry in _entries_in_order(batch_size):
        if entry.prev_hash != prev_hash:
            after_id = last.pk if last else "the start"
            problems.append(
                AuditProblem(
                    entry.pk,
                    f"link broken: an entry between {after_id} and {entry.pk} was deleted or inserted",
                )
            )
        if _entry_hash(entry.prev_hash, _hashed_fields(entry)) != entry.hash:
            problems.append(
                AuditProblem(entry.pk, "content does not match its hash: the entry was edited")
            )
        prev_hash, last = entry.hash, entry
    head = AuditHead.objects.filter(pk=1).first()
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_hash != prev_hash:
        problems.append(
            AuditProblem(
                head.last_id if head else None,
                "the newest entries were deleted (chain head does not match)",
            )
        )
    return problems


def _entries_in_order(batch_size: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


def audit_trail(*, object_type: str, object_id: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=object_type, object_id=object_id).order_by("pk")
    )
