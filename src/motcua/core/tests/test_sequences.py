"""Counters: concurrent callers never share a number, and a rollback leaves no gap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from motcua.core.sequences import sequence_next

THREADS = 4


def _in_threads(work: Callable[[threading.Barrier], list[int]]) -> list[list[int]]:
    """Run `work` in THREADS threads, each on its own connection, closed when it is done."""
    barrier = threading.Barrier(THREADS)

    def run() -> list[int]:
        try:
            return work(barrier)
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(run) for _ in range(THREADS)]
        return [future.result(timeout=60) for future in futures]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_callers_get_distinct_consecutive_numbers() -> None:
    calls = 25

    def submit(barrier: threading.Barrier) -> list[int]:
        barrier.wait()
        numbers = []
        for _ in range(calls):
            with transaction.atomic():
                numbers.append(sequence_next("receipt:000.00.00.H29:260213"))
        return numbers

    results = _in_threads(submit)
    assert sorted(n for numbers in results for n in numbers) == list(range(1, THREADS * calls + 1))
    assert all(numbers == sorted(numbers) for numbers in results)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_on_a_new_scope_creates_it_once() -> None:
    """Every round all threads insert the same new scope at the same moment."""
    rounds = 20

    def submit(barrier: threading.Barrier) -> list[int]:
        numbers = []
        for round_ in range(rounds):
            barrier.wait()
            with transaction.atomic():
                numbers.append(sequence_next(f"receipt:H29:{round_}"))
        return numbers

    results = _in_threads(submit)
    for round_ in range(rounds):
        assert sorted(numbers[round_] for numbers in results) == list(range(1, THREADS + 1))


@pytest.mark.django_db
def test_a_rolled_back_caller_gives_its_number_back() -> None:
    assert sequence_next("receipt:H29:260213") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next("receipt:H29:260213") == 2
        raise RuntimeError("the submission failed")
    assert sequence_next("receipt:H29:260213") == 2


@pytest.mark.django_db
def test_scopes_count_separately_and_must_fit() -> None:
    assert [sequence_next("a"), sequence_next("b"), sequence_next("a")] == [1, 1, 2]
    for bad in ("", "x" * 65):
        with pytest.raises(ValueError, match="1 to 64 characters"):
            sequence_next(bad)
