"""The shared limit store: counted in PostgreSQL, sliding over two windows, refused hits not
counted, old windows pruned by the hourly job."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.identity.limits import (
    Limit,
    limit_hit,
    limits_clear,
    limits_count,
    limits_prune,
    limits_reached,
)
from motcua.identity.models import RateCounter
from motcua.identity.tasks import housekeeping

pytestmark = pytest.mark.django_db
PER_MINUTE = Limit(limit=3, window_s=60)
START = 1_800_000_000.0  # the start of a window


def test_hits_are_allowed_up_to_the_limit_and_refused_ones_are_not_counted() -> None:
    assert [limit_hit("k", limit=PER_MINUTE, now=START + i) for i in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert RateCounter.objects.get(key="k").count == 3


def test_a_burst_across_the_window_boundary_cannot_double_the_limit() -> None:
    for i in range(3):
        assert limit_hit("k", limit=PER_MINUTE, now=START + 57 + i / 10)
    # Just after the boundary nearly all of the previous window still counts.
    assert not limit_hit("k", limit=PER_MINUTE, now=START + 61)
    assert limit_hit("k", limit=PER_MINUTE, now=START + 60 + 59)  # most of it has slid away


def test_counting_events_reaches_the_limit_and_clearing_forgets_them() -> None:
    for _ in range(3):
        limits_count({"fails": PER_MINUTE, "other": Limit(limit=9, window_s=3600)}, now=START)
    assert limits_reached({"fails": PER_MINUTE, "other": Limit(9, 3600)}, now=START + 1)
    assert not limits_reached({"other": Limit(9, 3600)}, now=START + 1)
    limits_clear(["fails"])
    assert not limits_reached({"fails": PER_MINUTE}, now=START + 1)


@settings(max_examples=25, deadline=None)
@given(offsets=st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=40))
def test_no_sliding_minute_ever_admits_more_than_the_limit(offsets: list[float]) -> None:
    key = f"p{len(offsets)}-{hash(tuple(offsets))}"
    admitted = [
        START + t for t in sorted(offsets) if limit_hit(key, limit=PER_MINUTE, now=START + t)
    ]
    for i, at in enumerate(admitted):
        in_fixed_window = [a for a in admitted if a // 60 == at // 60]
        assert len(in_fixed_window) <= PER_MINUTE.limit, (i, admitted)


def test_the_hourly_job_prunes_old_windows() -> None:
    limit_hit("old", limit=PER_MINUTE, now=START - 3 * 86400)
    limit_hit("new", limit=PER_MINUTE, now=START)
    assert limits_prune(now=START) == 1
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["new"]
    housekeeping(timestamp=int(START))  # runs the store's and the token contexts' pruning
