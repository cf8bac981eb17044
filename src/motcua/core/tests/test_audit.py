"""The audit chain: appends link up, and any edit or deletion is found and named."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from motcua.core.actors import SYSTEM
from motcua.core.audit import audit_record, audit_verify
from motcua.core.models import AuditEntry

pytestmark = pytest.mark.django_db


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


def _bypass_triggers(sql: str, params: list[int]) -> None:
    """What an attacker with superuser rights could do: skip the append-only trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_an_intact_chain_verifies() -> None:
    _append(5)
    assert audit_verify() == []
    call_command("audit", "verify")


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
        call_command("audit", "verify")


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
