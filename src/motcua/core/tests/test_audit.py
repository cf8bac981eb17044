"""The audit chain: appends link up under the audit key, any edit or deletion is found and named,
and a history rewritten by the database's owner is named against the last checkpoint kept
outside the database."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from procrastinate.contrib.django import app as procrastinate_app

from motcua.core import tasks
from motcua.core.actors import SYSTEM
from motcua.core.audit import (
    GENESIS_HASH,
    _entry_hash,
    _hashed_fields,
    audit_checkpoint_write,
    audit_record,
    audit_verify,
)
from motcua.core.models import AuditEntry, AuditHead
from motcua.db import APP_ROLE, audit_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(tmp_path: Path) -> Iterator[Path]:
    """Each test its own checkpoint directory outside the database."""
    directory = tmp_path / "checkpoints"
    previous = settings.AUDIT_CHECKPOINT_DIR
    settings.AUDIT_CHECKPOINT_DIR = directory
    yield directory
    settings.AUDIT_CHECKPOINT_DIR = previous


def _append(n: int) -> list[int]:
    ids = []
    for i in range(n):
        with transaction.atomic():
            entry = audit_record(
                actor=SYSTEM,
                action="test.change",
                object_type="thing",
                object_id=str(i),
                before={"v": i},
                after={"v": i + 1, "name": "Nguyễn Văn Ân"},
            )
        ids.append(entry.pk)
    return ids


def _bypass_triggers(sql: str, params: list[Any]) -> None:
    """What an attacker with superuser rights could do: skip the append-only trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def _verify_command() -> tuple[str, str]:
    """`motcua audit verify`: its stderr and the CommandError (exit code 1), or ('', stdout)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except CommandError as error:
        return err.getvalue(), str(error)
    return "", out.getvalue()


def _plain_sha256(prev_hash: str, entry: AuditEntry) -> str:
    """The old, unkeyed scheme: anyone who can write the table can recompute it."""
    fields = json.dumps(
        _hashed_fields(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256((prev_hash + fields).encode()).hexdigest()


def _rewrite_history(new_hash: Any, ids: list[int], *, edit_id: int) -> None:
    """As the table's owner (a superuser connection): switch the append-only trigger off,
    delete the entries, put them back with one of them edited and every hash recomputed by
    `new_hash`, and move the head to the new last link."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only")
    entries = list(AuditEntry.objects.filter(pk__in=ids).order_by("pk"))
    AuditEntry.objects.filter(pk__in=ids).delete()
    prev = GENESIS_HASH
    for entry in entries:
        if entry.pk == edit_id:
            entry.after = {"v": 0, "name": "Trần Thị Bình"}
        entry.prev_hash = prev
        entry.hash = prev = new_hash(prev, entry)
        entry.save(force_insert=True)
    AuditHead.objects.filter(pk=1).update(last_id=entries[-1].pk, last_hash=prev)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


# --- the chain --------------------------------------------------------------------------------


def test_an_intact_chain_verifies() -> None:
    _append(5)
    assert audit_verify() == []
    call_command("audit", "verify", stdout=StringIO())


def test_the_chain_is_keyed() -> None:
    """The same content under another key gives another hash: the database alone cannot
    recompute the chain."""
    (entry_id,) = _append(1)
    entry = AuditEntry.objects.get(pk=entry_id)
    assert entry.hash == _entry_hash(GENESIS_HASH, _hashed_fields(entry))
    assert entry.hash != _plain_sha256(GENESIS_HASH, entry)
    key = settings.AUDIT_KEY
    try:
        settings.AUDIT_KEY = b"another key"
        assert entry.hash != _entry_hash(GENESIS_HASH, _hashed_fields(entry))
        assert [p.entry_id for p in audit_verify()] == [entry_id]
    finally:
        settings.AUDIT_KEY = key


def test_the_database_refuses_updates_and_deletes() -> None:
    (entry_id,) = _append(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry_id).update(reason="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry_id).delete()


def test_an_edited_entry_is_named() -> None:
    ids = _append(4)
    _bypass_triggers("UPDATE core_auditentry SET after = '{\"v\": 99}' WHERE id = %s", [ids[2]])
    problems = audit_verify()
    assert [(p.entry_id, "edited" in p.problem) for p in problems] == [(ids[2], True)]
    with pytest.raises(CommandError, match="1 problem"):
        call_command("audit", "verify", stderr=StringIO())


def test_a_deleted_entry_is_named_by_its_successor() -> None:
    ids = _append(4)
    _bypass_triggers("DELETE FROM core_auditentry WHERE id = %s", [ids[1]])
    problems = audit_verify()
    assert [p.entry_id for p in problems] == [ids[2]]
    assert "deleted" in problems[0].problem


def test_a_deleted_tail_is_detected() -> None:
    ids = _append(3)
    _bypass_triggers("DELETE FROM core_auditentry WHERE id = %s", [ids[-1]])
    problems = audit_verify()
    assert len(problems) == 1 and "newest entries were deleted" in problems[0].problem


# --- the attacks of issue 13, item 9 ----------------------------------------------------------


def test_attack_owner_rewrites_history_with_plain_sha256_is_named_against_the_checkpoint(
    checkpoint_dir: Path,
) -> None:
    """What the old scheme allowed the table's owner: rewrite an entry, recompute the plain
    SHA-256 chain and the head. Verify names every forged entry (no key) and the checkpoint
    outside the database that disagrees, and exits non-zero."""
    ids = _append(4)
    checkpoint = audit_checkpoint_write()
    assert checkpoint is not None and checkpoint.entry_id == ids[-1]
    _rewrite_history(_plain_sha256, ids, edit_id=ids[1])

    problems = audit_verify()
    forged = {p.entry_id for p in problems if "keyed hash" in p.problem}
    assert forged == set(ids)
    (disagreement,) = [p for p in problems if "checkpoint" in p.problem]
    assert disagreement.entry_id == ids[-1]
    assert str(checkpoint.path) in disagreement.problem and "rewritten" in disagreement.problem
    stderr, error = _verify_command()
    assert "audit chain broken" in error
    assert f"entry {ids[-1]}: hash" in stderr and str(checkpoint.path) in stderr


def test_attack_owner_rechains_history_with_the_key_is_named_against_the_checkpoint() -> None:
    """An insider who has the key too rewrites an entry and re-chains everything validly: the
    chain alone is clean again, the checkpoint names the entry it recorded."""
    ids = _append(4)
    checkpoint = audit_checkpoint_write()
    assert checkpoint is not None
    _rewrite_history(_entry_hash_of, ids, edit_id=ids[0])

    problems = audit_verify()
    assert [p.entry_id for p in problems] == [ids[-1]]
    assert str(checkpoint.path) in problems[0].problem
    assert "re-chained" in problems[0].problem


def _entry_hash_of(prev_hash: str, entry: AuditEntry) -> str:
    return _entry_hash(prev_hash, _hashed_fields(entry))


def test_attack_owner_truncates_history_and_starts_a_fresh_chain_is_named() -> None:
    """Empty the table past its triggers, reset the head, and append a new, valid chain: the
    entries the last checkpoint recorded are gone, and verify says so."""
    ids = _append(3)
    checkpoint = audit_checkpoint_write()
    assert checkpoint is not None
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
        cursor.execute("TRUNCATE core_auditentry")
        cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER USER")
    AuditHead.objects.filter(pk=1).update(last_id=0, last_hash=GENESIS_HASH)
    _append(5)

    problems = audit_verify()
    assert [p.entry_id for p in problems] == [ids[-1]]
    assert "is gone" in problems[0].problem and str(checkpoint.path) in problems[0].problem
    # The scheduled checkpoint refuses to bless the new history: no file is written.
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit", "checkpoint", stdout=StringIO(), stderr=StringIO())
    assert len(list(checkpoint.path.parent.glob("*.json"))) == 1  # type: ignore[union-attr]


def test_attack_owner_deletes_entries_before_the_checkpoint_is_counted() -> None:
    ids = _append(4)
    audit_checkpoint_write()
    _rewrite_history(_entry_hash_of, ids[1:], edit_id=-1)  # re-chains without the first one
    _bypass_triggers("DELETE FROM core_auditentry WHERE id = %s", [ids[0]])
    problems = [p.problem for p in audit_verify()]
    assert any("3 entries up to this one" in p and "counted 4" in p for p in problems)


def test_attack_forged_checkpoint_is_named_and_the_last_genuine_one_used(
    checkpoint_dir: Path,
) -> None:
    """An attacker who can write the checkpoint directory but has no key edits a checkpoint to
    match the rewritten history: its signature fails, and the genuine one before it still
    names the rewrite."""
    ids = _append(2)
    genuine = audit_checkpoint_write()
    assert genuine is not None and genuine.path is not None
    _rewrite_history(_plain_sha256, ids, edit_id=ids[0])
    forged = json.loads(genuine.path.read_text())
    forged["hash"] = AuditEntry.objects.get(pk=ids[-1]).hash
    forged_path = genuine.path.with_name("99991231T000000000000Z-forged.json")
    forged_path.write_text(json.dumps(forged))

    problems = [p.problem for p in audit_verify()]
    assert any(str(forged_path) in p and "forged or altered" in p for p in problems)
    assert any(str(genuine.path) in p and "rewritten" in p for p in problems)


def test_attack_owner_truncates_the_append_only_tables_is_refused() -> None:
    """TRUNCATE skips row triggers; a statement trigger refuses it on every append-only table.
    (The test settings let Django's flush through with `motcua.allow_truncate`; switched off
    here, as any other session has it.)"""
    _append(1)
    for table in ("core_auditentry", "core_accesslog", "registry_lifeevent"):
        with (
            pytest.raises(DatabaseError, match=f"{table} is append-only: TRUNCATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT set_config('motcua.allow_truncate', 'off', true)")
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == 1


# --- checkpoints ------------------------------------------------------------------------------


def test_a_checkpoint_is_a_signed_file_outside_the_database(checkpoint_dir: Path) -> None:
    ids = _append(3)
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    (path,) = (checkpoint_dir / connection.settings_dict["NAME"]).glob("*.json")
    assert str(path) in out.getvalue()
    record = json.loads(path.read_text())
    assert record["entry_id"] == ids[-1] and record["count"] == 3
    assert record["hash"] == AuditEntry.objects.get(pk=ids[-1]).hash
    assert len(record["signature"]) == 64
    # Nothing new: no second file. New entries: a second checkpoint, verified incrementally.
    assert audit_checkpoint_write() is None
    _append(2)
    newer = audit_checkpoint_write()
    assert newer is not None and newer.count == 5
    _, said = _verify_command()
    assert "intact: 5 entries" in said and str(newer.path) in said


def test_the_checkpoint_is_a_periodic_background_job(checkpoint_dir: Path) -> None:
    periodic = [
        p
        for p in procrastinate_app.periodic_registry.periodic_tasks.values()
        if p.task.name == "core.audit_checkpoint"
    ]
    assert [p.cron for p in periodic] == [settings.AUDIT_CHECKPOINT_CRON]
    _append(1)
    tasks.audit_checkpoint(timestamp=0)
    assert len(list(checkpoint_dir.rglob("*.json"))) == 1


def test_the_audit_key_is_made_once_outside_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOTCUA_AUDIT_KEY", raising=False)
    path = tmp_path / "keys" / "audit.key"
    key = audit_key(path)
    assert len(key) == 64 and audit_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("MOTCUA_AUDIT_KEY", "k" * 32)
    assert audit_key(path) == b"k" * 32
    monkeypatch.setenv("MOTCUA_AUDIT_KEY", "short")
    with pytest.raises(ValueError, match="32"):
        audit_key(path)


# --- the application's database role ----------------------------------------------------------


def _as_app_role() -> psycopg.Connection[Any]:
    """A connection to the test database as the application role (not the test settings'
    owner, and without their truncate permission)."""
    params = connection.get_connection_params()
    where = {key: params[key] for key in ("dbname", "host", "port") if params.get(key)}
    conn = psycopg.connect(**where, user=APP_ROLE)
    conn.execute("SET lock_timeout = '5s'")
    return conn


def test_attack_application_role_alters_the_audit_log_or_the_schema_is_refused() -> None:
    """The serving processes' role writes ordinary rows and appends to the audit log, but can
    neither change nor empty it, nor alter or drop any table, nor switch triggers off."""
    refused = {
        "UPDATE core_auditentry SET reason = 'x'": "permission denied",
        "DELETE FROM core_auditentry": "permission denied",
        "TRUNCATE core_auditentry": "permission denied",
        "TRUNCATE core_accesslog": "permission denied",
        "UPDATE registry_lifeevent SET id = id": "permission denied",
        "ALTER TABLE core_auditentry DISABLE TRIGGER USER": "must be owner",
        "ALTER TABLE core_holiday ADD COLUMN x int": "must be owner",
        "DROP TABLE core_holiday": "must be owner",
        "DROP TABLE core_auditentry": "must be owner",
        "SET session_replication_role = replica": "permission denied",
        "CREATE TABLE intruder (id int)": "permission denied",
    }
    with _as_app_role() as conn, conn.transaction(force_rollback=True):
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        owned = "SELECT count(*) FROM pg_class WHERE relowner = 'motcua_app'::regrole"
        assert conn.execute(owned).fetchone() == (0,)  # so it may ALTER or DROP none
        conn.execute(
            "INSERT INTO core_holiday (day, name, kind) VALUES ('2099-01-02', 'x', 'holiday')"
        )
        conn.execute("UPDATE core_holiday SET name = 'y' WHERE day = '2099-01-02'")
        conn.execute("DELETE FROM core_holiday WHERE day = '2099-01-02'")
        conn.execute(
            "INSERT INTO core_auditentry (at, actor, action, object_type, object_id, reason, "
            "prev_hash, hash) VALUES (now(), 'a', 'b', 'c', 'd', '', 'p', 'h')"
        )
        conn.execute("SELECT count(*) FROM core_auditentry").fetchone()
        for statement, error in refused.items():
            with pytest.raises(psycopg.Error, match=error), conn.transaction():
                conn.execute(statement.encode())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_web_server_connects_as_the_application_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """`motcua serve` switches to the role before it forks its workers; as that role the
    application appends audit entries (sequence, head) like before."""
    from motcua.db import use_app_role

    default: Any = settings.DATABASES["default"]
    owner = dict(default)
    test_db = str(owner["NAME"])
    owner_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + test_db))
    monkeypatch.setenv("DATABASE_URL", owner_url)
    monkeypatch.setenv("MOTCUA_DATABASE_EMBEDDED", "1")
    monkeypatch.delenv("MOTCUA_DATABASE_APP_URL", raising=False)
    try:
        assert use_app_role()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            assert cursor.fetchone() == (APP_ROLE, test_db)
        ids = _append(2)
        assert audit_verify() == []
        assert AuditHead.objects.get(pk=1).last_id == ids[-1]
        assert os.environ["DATABASE_URL"].startswith(f"postgresql://{APP_ROLE}@")
    finally:
        connection.close()
        default.clear()
        default.update(owner)
