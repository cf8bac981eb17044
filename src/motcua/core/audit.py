"""The append-only, keyed, hash-chained audit log of every change, and its checkpoints.

Each entry's hash is HMAC-SHA256, under the audit key, of its content and the previous entry's
hash; the single AuditHead row holds the newest link. An edited row breaks its own hash, a
deleted row breaks the next row's link, and a deleted tail no longer matches the head.

The key (settings.AUDIT_KEY: MOTCUA_AUDIT_KEY, else var/keys/audit.key) is kept outside the
database, so whoever controls only the database cannot recompute a rewritten chain. Entries
written before the key existed were re-chained under it by core migration 0006, after their
plain SHA-256 chain was verified: the whole chain has one scheme, so no entry can be
downgraded to the unkeyed one.

Rewriting history *with* the key (or dropping the table and appending a fresh, valid chain)
is caught by checkpoints: `audit_checkpoint_write` records the newest entry's id and hash and
the number of entries up to it, signed with the key, in a file outside the database
(settings.AUDIT_CHECKPOINT_DIR/<database>/), every few minutes (core.tasks). `audit_verify`
checks the chain and then the newest validly signed checkpoint against it.

The limits, stated plainly: the key and the checkpoints are only as safe as the host that keeps
them. With the embedded server the migrating role is a PostgreSQL superuser running as the
same OS user, so it could read the key file (pg_read_file); the application role cannot. In
production give the key to the application by MOTCUA_AUDIT_KEY and ship checkpoints to
storage the database host cannot write (MOTCUA_AUDIT_CHECKPOINT_DIR on another volume or a
synced bucket).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from motcua.core.actors import Actor
from motcua.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
SCHEME = "hmac-sha256"


def _jsonable(value: Any) -> Any:
    """The value as it will come back from a jsonb column, so that hashes are reproducible."""
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(data: bytes) -> str:
    return hmac.new(settings.AUDIT_KEY, data, hashlib.sha256).hexdigest()


def _entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return _mac(prev_hash.encode() + _canonical(fields))


def audit_key_id() -> str:
    """Names the key without revealing it (checkpoints record it)."""
    return _mac(b"motcua audit key id")[:16]


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
    head, _created = AuditHead.objects.select_for_update().get_or_create(
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


@dataclass(frozen=True)
class _Walk:
    problems: list[AuditProblem]
    last_id: int
    last_hash: str
    count: int


def _walk(*, after_id: int, after_hash: str, batch_size: int) -> _Walk:
    """Verify every entry after `after_id`, whose hash is `after_hash` (the genesis: 0)."""
    problems: list[AuditProblem] = []
    prev_hash, last_id, count = after_hash, after_id, 0
    for entry in _entries_in_order(batch_size, after_id=after_id):
        if entry.prev_hash != prev_hash:
            after = last_id or "the start"
            problems.append(
                AuditProblem(
                    entry.pk,
                    f"link broken: an entry between {after} and {entry.pk} was deleted or inserted",
                )
            )
        if not hmac.compare_digest(_entry_hash(entry.prev_hash, _hashed_fields(entry)), entry.hash):
            problems.append(
                AuditProblem(
                    entry.pk,
                    "content does not match its keyed hash: the entry was edited or forged",
                )
            )
        prev_hash, last_id, count = entry.hash, entry.pk, count + 1
    return _Walk(problems, last_id, prev_hash, count)


def audit_verify(*, batch_size: int = 5000) -> list[AuditProblem]:
    """Walk the whole chain and report every entry that was edited, deleted or inserted; then
    compare the table with the newest validly signed checkpoint outside the database."""
    walk = _walk(after_id=0, after_hash=GENESIS_HASH, batch_size=batch_size)
    problems = list(walk.problems)
    head = AuditHead.objects.filter(pk=1).first()
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_hash != walk.last_hash:
        problems.append(
            AuditProblem(
                head.last_id if head else None,
                "the newest entries were deleted (chain head does not match)",
            )
        )
    return problems + audit_checkpoint_check()


def _entries_in_order(batch_size: int, *, after_id: int = 0) -> Iterator[AuditEntry]:
    last_id = after_id
    while True:
        batch = list(AuditEntry.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


# --- checkpoints outside the database -----------------------------------------------------------


@dataclass(frozen=True)
class AuditCheckpoint:
    """The chain's state at one moment: the newest entry, its hash, how many entries up to it."""

    entry_id: int
    hash: str
    count: int
    at: str
    database: str
    key_id: str
    path: Path | None = None

    def record(self) -> dict[str, Any]:
        return {
            "scheme": SCHEME,
            "database": self.database,
            "entry_id": self.entry_id,
            "hash": self.hash,
            "count": self.count,
            "at": self.at,
            "key_id": self.key_id,
        }


class AuditChainBroken(Exception):
    def __init__(self, problems: list[AuditProblem]) -> None:
        self.problems = problems
        super().__init__(f"audit chain broken: {len(problems)} problem(s); no checkpoint written")


def _database() -> str:
    return str(connection.settings_dict["NAME"])


def checkpoint_directory() -> Path:
    """This database's checkpoints (one directory may serve several databases)."""
    return Path(settings.AUDIT_CHECKPOINT_DIR) / _database()


def _signed(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "signature": _mac(_canonical(record))}


def _checkpoint_files() -> list[Path]:
    """Newest first: file names begin with the UTC time of writing."""
    directory = checkpoint_directory()
    return sorted(directory.glob("*.json"), reverse=True) if directory.is_dir() else []


def _read_checkpoint(path: Path) -> AuditCheckpoint | str:
    """The checkpoint, or why it cannot be trusted."""
    try:
        data = json.loads(path.read_text())
        signature = data.pop("signature")
        if not isinstance(signature, str) or not hmac.compare_digest(
            signature, _mac(_canonical(data))
        ):
            if data.get("key_id") != audit_key_id():
                return f"signed with another key (key id {data.get('key_id')}) or altered"
            return "signature does not verify: the checkpoint was forged or altered"
        checkpoint = AuditCheckpoint(
            entry_id=int(data["entry_id"]),
            hash=str(data["hash"]),
            count=int(data["count"]),
            at=str(data["at"]),
            database=str(data["database"]),
            key_id=str(data["key_id"]),
            path=path,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"unreadable checkpoint ({error})"
    if checkpoint.database != _database():
        return f"checkpoint of another database ({checkpoint.database})"
    return checkpoint


def audit_checkpoint_latest() -> tuple[AuditCheckpoint | None, list[AuditProblem]]:
    """The newest validly signed checkpoint, and a problem for each newer file that is not."""
    problems: list[AuditProblem] = []
    for path in _checkpoint_files():
        checkpoint = _read_checkpoint(path)
        if isinstance(checkpoint, AuditCheckpoint):
            return checkpoint, problems
        problems.append(AuditProblem(None, f"checkpoint {path}: {checkpoint}"))
    return None, problems


def _against(checkpoint: AuditCheckpoint) -> list[AuditProblem]:
    name = checkpoint.path or "(unsaved)"
    if checkpoint.entry_id == 0:
        entry_hash: str | None = GENESIS_HASH
    else:
        entry_hash = (
            AuditEntry.objects.filter(pk=checkpoint.entry_id).values_list("hash", flat=True).first()
        )
    if entry_hash is None:
        return [
            AuditProblem(
                checkpoint.entry_id,
                f"checkpoint {name} ({checkpoint.at}) recorded this entry and it is gone: "
                "the history was truncated or rewritten",
            )
        ]
    problems = []
    if entry_hash != checkpoint.hash:
        problems.append(
            AuditProblem(
                checkpoint.entry_id,
                f"hash {entry_hash[:16]}… disagrees with checkpoint {name} ({checkpoint.at}), "
                f"which recorded {checkpoint.hash[:16]}…: the history up to this entry was "
                "rewritten or re-chained",
            )
        )
    count = AuditEntry.objects.filter(pk__lte=checkpoint.entry_id).count()
    if count != checkpoint.count:
        problems.append(
            AuditProblem(
                checkpoint.entry_id,
                f"{count} entries up to this one, checkpoint {name} ({checkpoint.at}) counted "
                f"{checkpoint.count}: entries were deleted or inserted before it",
            )
        )
    return problems


def audit_checkpoint_check() -> list[AuditProblem]:
    """The table against the newest validly signed checkpoint (none yet: nothing to compare)."""
    checkpoint, problems = audit_checkpoint_latest()
    return problems + (_against(checkpoint) if checkpoint else [])


def audit_checkpoint_write(*, batch_size: int = 5000) -> AuditCheckpoint | None:
    """Verify the entries added since the last checkpoint (all of them the first time) and
    record the chain's newest state in a signed file outside the database. None when nothing
    was added since the last checkpoint; AuditChainBroken, and no file, when the chain fails."""
    previous, problems = audit_checkpoint_latest()
    if previous is not None:
        problems += _against(previous)
        walk = _walk(after_id=previous.entry_id, after_hash=previous.hash, batch_size=batch_size)
        count = previous.count + walk.count
    else:
        walk = _walk(after_id=0, after_hash=GENESIS_HASH, batch_size=batch_size)
        count = walk.count
    problems += walk.problems
    if problems:
        raise AuditChainBroken(problems)
    if previous is not None and previous.entry_id == walk.last_id:
        return None
    at = datetime.now(UTC)
    checkpoint = AuditCheckpoint(
        entry_id=walk.last_id,
        hash=walk.last_hash,
        count=count,
        at=at.isoformat(),
        database=_database(),
        key_id=audit_key_id(),
    )
    directory = checkpoint_directory()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{at:%Y%m%dT%H%M%S%fZ}-{checkpoint.entry_id}.json"
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(_signed(checkpoint.record()), out, indent=1, ensure_ascii=False)
    os.replace(temporary, path)
    return AuditCheckpoint(**{**checkpoint.__dict__, "path": path})


def audit_trail(*, object_type: str, object_id: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=object_type, object_id=object_id).order_by("pk")
    )
