"""A token bucket per partner, per web process: each of N processes allows rate/N per second,
so the whole server allows about `rate` without a shared store on the hot path."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class RateLimiter:
    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or int(os.environ.get("MOTCUA_WEB_WORKERS", "1"))
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str, rate_per_second: int) -> bool:
        rate = max(rate_per_second / self.processes, 1.0)
        now = time.monotonic()
        bucket = self._buckets.setdefault(key, _Bucket(tokens=rate, stamp=now))
        with bucket.lock:
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True
