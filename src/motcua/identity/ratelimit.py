"""Each eKYC partner's quota (requests per second), shared by every web process without a database
write on every request.

A process leases a batch of the partner's tokens from the shared store (identity.limits: one
atomic upsert counts the whole batch against the partner's one-second window) and spends them
locally. A lease is good only until the end of the window it was counted in, so whatever all
processes spend in a window was counted in that window: together they never exceed the rate.
When the store has no batch left, the process asks for a single token, and when even that is
refused it refuses locally until the next window, so traffic over the quota costs no writes.

A batch is a twentieth of the rate (at most 500): a few leases per second per process at full
load, and little of the quota stranded in idle processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from motcua.identity.limits import Limit, limit_hit

WINDOW_S = 1
MAX_BATCH = 500


def batch_size(rate_per_second: int) -> int:
    return max(1, min(rate_per_second // 20, MAX_BATCH))


@dataclass
class _Lease:
    tokens: int = 0
    window: int = -1  # the start of the window the tokens were counted in
    exhausted: int = -1  # the window in which the store refused even one token
    lock: threading.Lock = field(default_factory=threading.Lock)


class RateLimiter:
    """One per process; `allow` is safe from many threads."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._leases: dict[str, _Lease] = {}
        self._guard = threading.Lock()
        self.leases_taken = 0  # store round trips, for tests and curiosity

    def _lease_of(self, key: str) -> _Lease:
        lease = self._leases.get(key)
        if lease is None:
            with self._guard:
                lease = self._leases.setdefault(key, _Lease())
        return lease

    def allow(self, key: str, rate_per_second: int) -> bool:
        now = self.clock()
        window = int(now // WINDOW_S) * WINDOW_S
        lease = self._lease_of(key)
        with lease.lock:
            if lease.window != window:  # last window's tokens are spent or void
                lease.tokens, lease.window = 0, window
            if lease.tokens == 0:
                if lease.exhausted == window:
                    return False
                lease.tokens = self._take(key, rate_per_second, now)
                if lease.tokens == 0:
                    lease.exhausted = window
                    return False
            lease.tokens -= 1
            return True

    def _take(self, key: str, rate_per_second: int, now: float) -> int:
        """Tokens leased from the shared store for this window: a batch, else one, else none."""
        limit = Limit(limit=rate_per_second, window_s=WINDOW_S)
        batch = batch_size(rate_per_second)
        for cost in (batch, 1) if batch > 1 else (1,):
            self.leases_taken += 1
            if limit_hit(f"ekyc:{key}", limit=limit, cost=cost, now=now):
                return cost
        return 0
