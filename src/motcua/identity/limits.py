"""Limits shared by every web process: login throttles, one-time-code quotas, registration
attempts and partners' leases, counted in PostgreSQL (one row per key and fixed window).

A hit is one atomic upsert, so two processes never both take the last unit. A window is judged
together with the one before it, weighted by how much of it still overlaps the sliding window,
so that a burst across a window boundary cannot double the limit."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection

_HIT = """
INSERT INTO identity_ratecounter (key, window_start, count) VALUES (%s, %s, %s)
ON CONFLICT (key, window_start) DO UPDATE SET count = identity_ratecounter.count + EXCLUDED.count
RETURNING count
"""
_COUNTS = """
SELECT window_start, count FROM identity_ratecounter WHERE key = %s AND window_start IN (%s, %s)
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


def _weighted(key: str, window_s: int, now: float) -> tuple[int, float, int]:
    start, previous, overlap = _windows(window_s, now)
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS, [key, start, previous])
        counts = dict(cursor.fetchall())
    return start, counts.get(previous, 0) * overlap, counts.get(start, 0)


def limit_hit(key: str, *, limit: Limit, cost: int = 1, now: float | None = None) -> bool:
    """Count `cost` against `key` if the limit allows it; False (and nothing counted) if not."""
    now = time.time() if now is None else now
    start, earlier, _ = _weighted(key, limit.window_s, now)
    with connection.cursor() as cursor:
        cursor.execute(_HIT, [key, start, cost])
        (current,) = cursor.fetchone()
        if earlier + current <= limit.limit:
            return True
        cursor.execute(_UNDO, [cost, key, start])  # refused hits are never counted
    return False


def limit_reached(key: str, *, limit: Limit, now: float | None = None) -> bool:
    """Whether the next hit would be refused, without counting one (for failures that are
    counted only when they happen)."""
    now = time.time() if now is None else now
    _, earlier, current = _weighted(key, limit.window_s, now)
    return earlier + current + 1 > limit.limit


def limit_count(key: str, *, limit: Limit, now: float | None = None) -> None:
    """Count one event that has already happened (a failed password), limit or not."""
    now = time.time() if now is None else now
    start, _, _ = _windows(limit.window_s, now)
    with connection.cursor() as cursor:
        cursor.execute(_HIT, [key, start, 1])


def limit_clear(key: str) -> None:
    """Forget a key (an account's failures after a successful sign-in)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM identity_ratecounter WHERE key = %s", [key])


def limits_prune(*, older_than_s: int = 2 * 86400, now: float | None = None) -> int:
    """Drop windows too old to matter to any limit (a periodic job)."""
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM identity_ratecounter WHERE window_start < %s", [int(now - older_than_s)]
        )
        return cursor.rowcount
