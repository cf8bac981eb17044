"""Limits shared by every web process: login throttles, one-time-code quotas, registration
attempts and partners' leases, counted in PostgreSQL (one row per key and fixed window).

A hit is one atomic upsert, so two processes never both take the last unit. A window is judged
together with the one before it, weighted by how much of it still overlaps the sliding window,
so that a burst across a window boundary cannot double the limit."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection

_HIT = """
INSERT INTO identity_ratecounter (key, window_start, count) VALUES (%s, %s, %s)
ON CONFLICT (key, window_start) DO UPDATE SET count = identity_ratecounter.count + EXCLUDED.count
RETURNING count
"""
_COUNT = """
SELECT count FROM identity_ratecounter WHERE key = %s AND window_start = %s
"""
_COUNTS_OF_MANY = """
SELECT key, window_start, count FROM identity_ratecounter
WHERE key = ANY(%s) AND window_start = ANY(%s)
"""
_COUNT_MANY = """
INSERT INTO identity_ratecounter (key, window_start, count)
SELECT key, window_start, 1 FROM unnest(%s::text[], %s::bigint[]) AS t(key, window_start)
ON CONFLICT (key, window_start) DO UPDATE SET count = identity_ratecounter.count + 1
"""
_UNDO = """
UPDATE identity_ratecounter SET count = greatest(count - %s, 0)
WHERE key = %s AND window_start = %s
"""


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window_s` seconds."""

    limit: int
    window_s: int


def _windows(window_s: int, now: float) -> tuple[int, int, float]:
    """This window's start, the previous one's, and the share of the previous one still in
    the sliding window."""
    start = int(now // window_s) * window_s
    overlap = 1 - (now - start) / window_s
    return start, start - window_s, overlap


def _earlier(key: str, window_s: int, now: float) -> tuple[int, float]:
    """This window's start, and what the previous window still weighs in the sliding one."""
    start, previous, overlap = _windows(window_s, now)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, [key, previous])
        found = cursor.fetchone()
    return start, (found[0] if found else 0) * overlap


def limit_hit(key: str, *, limit: Limit, cost: int = 1, now: float | None = None) -> bool:
    """Count `cost` against `key` if the limit allows it; False (and nothing counted) if not."""
    now = time.time() if now is None else now
    start, earlier = _earlier(key, limit.window_s, now)
    with connection.cursor() as cursor:
        cursor.execute(_HIT, [key, start, cost])
        (current,) = cursor.fetchone()
        if earlier + current <= limit.limit:
            return True
        cursor.execute(_UNDO, [cost, key, start])  # refused hits are never counted
    return False


def limits_reached(checks: Mapping[str, Limit], *, now: float | None = None) -> bool:
    """Whether the next hit of any of these keys would be refused, without counting one (for
    failures that are counted only when they happen). One round trip for all of them."""
    now = time.time() if now is None else now
    windows = {key: _windows(limit.window_s, now) for key, limit in checks.items()}
    starts = sorted({w for start, previous, _ in windows.values() for w in (start, previous)})
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_OF_MANY, [list(checks), starts])
        counts = {(key, start): count for key, start, count in cursor.fetchall()}
    return any(
        counts.get((key, previous), 0) * overlap + counts.get((key, start), 0) + 1
        > checks[key].limit
        for key, (start, previous, overlap) in windows.items()
    )


def limits_count(checks: Mapping[str, Limit], *, now: float | None = None) -> None:
    """Count one event that has already happened (a failed password) against each key, limit
    or not, in one statement."""
    now = time.time() if now is None else now
    starts = [_windows(limit.window_s, now)[0] for limit in checks.values()]
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_MANY, [list(checks), starts])


def limits_clear(keys: Iterable[str]) -> None:
    """Forget keys (an account's failures after a successful sign-in)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM identity_ratecounter WHERE key = ANY(%s)", [list(keys)])


def limits_prune(*, older_than_s: int = 2 * 86400, now: float | None = None) -> int:
    """Drop windows too old to matter to any limit (a periodic job)."""
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM identity_ratecounter WHERE window_start < %s", [int(now - older_than_s)]
        )
        return cursor.rowcount
