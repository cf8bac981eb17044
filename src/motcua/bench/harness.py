"""What every benchmark shares: a database of its own, a server subprocess, percentiles."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import httpx

from motcua.db import database_beside, drop_database

T = TypeVar("T")


@contextmanager
def own_database(name: str) -> Iterator[str]:
    """A fresh, migrated database on the same server, dropped afterwards."""
    drop_database(name)
    url = database_beside(name)
    try:
        subprocess.run(
            [sys.executable, "-m", "motcua.cli", "migrate", "-v", "0"],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
        yield url
    finally:
        drop_database(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(database_url: str, *, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """`motcua serve` in a subprocess on a free port; stopped (with its workers) on exit."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [
        sys.executable,
        "-m",
        "motcua.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--quiet",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/healthz")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def serving(command: list[str], port: int, *, env: Mapping[str, str]) -> Iterator[str]:
    """Any server `command` listening on 127.0.0.1:`port`, up once GET /healthz answers 200;
    terminated on exit."""
    process = subprocess.Popen(command, env=dict(env), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/healthz", process=process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(
    url: str, timeout_s: float = 60, *, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not come up at {url}")


def timed_ms(call: Callable[[T], object], arguments: Iterable[T]) -> list[float]:
    """Milliseconds of each call, one argument at a time."""
    samples = []
    for argument in arguments:
        start = time.perf_counter()
        call(argument)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 3)


def median(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)
