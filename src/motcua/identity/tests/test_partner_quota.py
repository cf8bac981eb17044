"""The eKYC partner quota is shared by every web process: processes lease batches of the
partner's per-second rate from the PostgreSQL store (identity.limits), so together they never
allow more than the rate in a window, and traffic over the quota costs no database writes."""

from __future__ import annotations

import itertools

import pytest

from motcua.identity.ratelimit import RateLimiter, batch_size

pytestmark = pytest.mark.django_db

RATE = 40


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_attack_two_processes_together_never_exceed_the_partner_rate() -> None:
    clock = Clock(1_800_000_000.5)
    processes = [RateLimiter(clock=clock), RateLimiter(clock=clock)]
    per_window = []
    for window in range(4):
        clock.now = 1_800_000_000 + window + 0.5
        allowed = sum(
            limiter.allow("Ngân hàng A", RATE)
            for limiter in itertools.islice(itertools.cycle(processes), 3 * RATE)
        )
        per_window.append(allowed)
    assert all(count <= RATE for count in per_window), per_window
    # Nothing much is stranded: the first window (no earlier one) gets the whole rate.
    assert per_window[0] == RATE
    assert all(count > 0 for count in per_window[1:]), per_window


def test_attack_one_process_cannot_spend_another_partners_quota() -> None:
    clock = Clock(1_800_000_100.5)
    limiter = RateLimiter(clock=clock)
    assert sum(limiter.allow("A", 5) for _ in range(20)) == 5
    assert sum(limiter.allow("B", 5) for _ in range(20)) == 5


def test_attack_tokens_leased_in_one_window_are_void_in_the_next() -> None:
    """A process cannot hoard a batch and spend it later, on top of a later window's quota."""
    clock = Clock(1_800_000_200.1)
    hoarder = RateLimiter(clock=clock)
    assert hoarder.allow("A", RATE)  # leases a batch of two, spends one, keeps one
    assert hoarder.leases_taken == 1
    clock.now += 1.0
    other = RateLimiter(clock=clock)
    spent = sum(other.allow("A", RATE) for _ in range(3 * RATE))
    assert not hoarder.allow("A", RATE)  # the kept token is void; the store has none left
    assert hoarder.leases_taken > 1
    assert spent + 1 <= RATE  # this window's answers, the earlier window weighed in


def test_over_quota_traffic_makes_no_database_round_trips(
    django_assert_num_queries: object,
) -> None:
    clock = Clock(1_800_000_300.5)
    limiter = RateLimiter(clock=clock)
    assert sum(limiter.allow("A", RATE) for _ in range(RATE)) == RATE
    assert not limiter.allow("A", RATE)  # asks the store, which refuses
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert not any(limiter.allow("A", RATE) for _ in range(100))


def test_a_process_leases_batches_not_single_requests() -> None:
    clock = Clock(1_800_000_400.5)
    limiter = RateLimiter(clock=clock)
    assert all(limiter.allow("A", 1000) for _ in range(200))
    assert limiter.leases_taken == 200 // batch_size(1000)
