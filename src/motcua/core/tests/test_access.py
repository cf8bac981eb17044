"""The access log: reads by others are recorded, one's own reads are not."""

from __future__ import annotations

import pytest
from django.db import connection

from motcua.core.access import BATCH_ROWS, access_log_of, access_log_record
from motcua.core.actors import Actor
from motcua.core.models import AccessLog

OFFICIAL = Actor(kind="official", ref="canbo")
CITIZEN = Actor(kind="citizen", ref="087084000999", pin="087084000999")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_read_outside_a_transaction_is_committed_on_its_own() -> None:
    assert not connection.in_atomic_block
    assert (
        access_log_record(
            actor=OFFICIAL, subject_pins=["087084000999"], data="registry.citizen", purpose="p"
        )
        == 1
    )
    assert [(r.actor, r.data) for r in access_log_of(pin="087084000999")] == [
        ("official:canbo", "registry.citizen")
    ]


@pytest.mark.django_db
def test_own_reads_and_repeated_subjects_are_not_logged_twice() -> None:
    pins = ["087084000999", "087084000999", "001190000001"]
    assert (
        access_log_record(actor=CITIZEN, subject_pins=pins, data="registry.household", purpose="p")
        == 1
    )
    assert access_log_of(pin="087084000999") == []
    assert len(access_log_of(pin="001190000001")) == 1


@pytest.mark.django_db
def test_many_reads_in_a_transaction_are_all_recorded_in_batches() -> None:
    pins = [f"001190{n:06d}" for n in range(BATCH_ROWS * 2 + 1)]
    assert access_log_record(actor=OFFICIAL, subject_pins=pins, data="linkage", purpose="p") == len(
        pins
    )
    assert AccessLog.objects.filter(data="linkage").count() == len(pins)
    last = access_log_of(pin=pins[-1])
    assert [(r.actor, r.actor_kind, r.purpose) for r in last] == [
        (OFFICIAL.label, OFFICIAL.kind, "p")
    ]
    with connection.cursor() as cursor:  # the caller's commit still waits for the WAL flush
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
