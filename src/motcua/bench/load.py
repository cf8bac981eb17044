"""A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request
as soon as the previous answer is read, for a fixed time after a warm-up.

Requests are built to bytes beforehand and the generator runs in a process of its own, on raw
asyncio streams (uvloop when installed), so it costs little CPU and shares no GIL with the
benchmark that calls it::

    result = load_run(base, [json_post("/api/x", {"pin": "..."}, token=key)], duration_s=30)
    result.rps, result.p99_ms, result.errors

With ``rate`` it is an open loop instead: each connection sends on a fixed schedule (together
``rate`` requests a second) and a latency counts from the scheduled send, so time spent behind
schedule is counted, not hidden (as wrk2 does). A closed loop of N connections answers "how much
does it serve?" and obeys Little's law, mean latency = N / rps; an open loop answers "how fast
are answers at this rate?".

From a shell: ``python -m motcua.bench.load http://127.0.0.1:8000/healthz -c 50 -d 10``.
Only for servers on this machine (loopback): it has no TLS and sends as fast as it can.

A response is counted when it completes inside the measured window. Its latency runs from just
before the request is written to just after the last body byte is read. Errors are non-2xx
answers (by status) and transport failures (refused, reset or cut-off connections); after a
failure, or an answer with ``Connection: close``, the connection is opened again.

For a form post that answers with a redirect, ``ok_statuses={302}`` and ``ok_location="/x/"``
count only redirects to a Location starting with "/x/" as successes. For requests that must
differ (idempotency keys), ``unique=b"@@@@@@@@@@@@"`` has every occurrence of the marker in a
request replaced, at each send, by a new number of the marker's width (0-padded), so that the
request keeps its length.

A request with ``then`` is a journey of several requests sent one after the other on the same
connection, each with the same number in place of the marker (a form, then its confirmation
step): every step but the last must answer with a redirect, and the latency runs from the first
byte of the first step to the last byte of the last.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Time the in-flight requests get to finish after the window before they are cancelled.
GRACE_S = 5.0
# The wait after a refused connection, so that a dead server is not hammered in a tight loop.
RECONNECT_PAUSE_S = 0.01


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    then: PreparedRequest | None = None  # the next step of the same journey

    def steps(self) -> list[PreparedRequest]:
        return [self, *(self.then.steps() if self.then else [])]

    def wire(self, host: str, prefix: str = "") -> bytes:
        """The request as sent: request line, Host, Content-Length (when there is a body or the
        method carries one), the given headers, the body."""
        lines = [f"{self.method} {prefix}{self.path} HTTP/1.1", f"Host: {host}"]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def json_post(path: str, payload: Any, *, token: str | None = None) -> PreparedRequest:
    """A POST with a compact JSON body and, given a token, ``Authorization: Bearer``."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(payload, separators=(",", ":")).encode()
    return PreparedRequest("POST", path, headers, body)


@dataclass
class LoadResult:
    connections: int
    duration_s: float
    requests: int  # answers completed in the window, whatever their status
    ok: int  # 2xx answers
    errors: int  # non-2xx answers + transport failures
    errors_by_status: dict[int, int]
    transport_errors: int
    rps: float  # requests / duration_s
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    cpu_s: float  # user + system CPU of the generator process during the window
    cpu_share: float  # cpu_s / duration_s: 1.0 is one core kept busy
    loop: str  # "asyncio" or "uvloop"
    rate: float | None = None  # the open loop's target requests/s; None for a closed loop
    p95_ms: float = 0.0
    wrong_redirects: int = 0  # redirects elsewhere than ok_location (errors, not by status)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadResult:
        fields = dict(data)
        fields["errors_by_status"] = {int(k): v for k, v in data["errors_by_status"].items()}
        return cls(**fields)


def load_run(
    base_url: str,
    requests: Sequence[PreparedRequest] | Callable[[int], PreparedRequest],
    *,
    connections: int = 50,
    duration_s: float = 30,
    warmup_s: float = 2,
    distinct: int = 1000,
    loop: str = "auto",
    rate: float | None = None,
    ok_statuses: Collection[int] | None = None,
    ok_location: str | None = None,
    unique: bytes | None = None,
) -> LoadResult:
    """Load ``base_url`` from a child process and wait for the result.

    ``requests`` are sent in turn, across all connections; a callable is asked for requests
    0 … distinct-1 beforehand. ``loop`` is "auto" (uvloop if installed), "uvloop" or "asyncio".
    ``rate`` (requests/s, all connections together) makes it an open loop. ``ok_statuses``
    (default: any 2xx), ``ok_location`` and ``unique``: see the module's documentation.
    """
    if callable(requests):
        requests = [requests(i) for i in range(distinct)]
    if not requests:
        raise ValueError("no requests to send")
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http://host:port URLs: {base_url!r}")
    host = parts.netloc
    prefix = parts.path.rstrip("/")
    spec = {
        "host": parts.hostname,
        "port": parts.port or 80,
        "wires": [
            [base64.b64encode(step.wire(host, prefix)).decode() for step in r.steps()]
            for r in requests
        ],
        "connections": connections,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "loop": loop,
        "rate": rate,
        "ok_statuses": sorted(ok_statuses) if ok_statuses is not None else None,
        "ok_location": ok_location,
        "unique": base64.b64encode(unique).decode() if unique else None,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "motcua.bench.load", "--spec", "-"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=warmup_s + duration_s + GRACE_S + 60,
        check=False,
    )
    if completed.returncode:
        stderr = completed.stderr.decode(errors="replace")
        raise RuntimeError(f"load generator failed (exit {completed.returncode}):\n{stderr}")
    return LoadResult.from_dict(json.loads(completed.stdout))


# --- In the child process -----------------------------------------------------------------------


class ProtocolError(Exception):
    pass


async def read_response(
    reader: asyncio.StreamReader, *, head_only: bool = False
) -> tuple[int, bool]:
    """Read one whole response; its status and whether the connection may be used again."""
    status, keep, _ = await _read_response(reader, head_only=head_only)
    return status, keep


def _location(head: bytes) -> bytes:
    at = head.lower().find(b"\r\nlocation:")
    if at < 0:
        return b""
    return head[at + 11 : head.index(b"\r\n", at + 11)].strip()


async def _read_response(
    reader: asyncio.StreamReader, *, head_only: bool = False
) -> tuple[int, bool, bytes]:
    """The status, whether the connection may be used again, and the head of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(head[:40])
    status = int(head[9:12])
    lower = head.lower()
    if head.startswith(b"HTTP/1.0"):
        keep = b"\r\nconnection: keep-alive" in lower
    else:
        keep = b"\r\nconnection: close" not in lower
    if head_only or status in (204, 304) or status < 200:
        return status, keep, head
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        length = int(lower[at + 17 : lower.index(b"\r\n", at + 17)])
        if length:
            await reader.readexactly(length)
    elif b"\r\ntransfer-encoding:" in lower and b"chunked" in lower:
        await _read_chunked(reader)
    else:  # the body runs to the end of the connection
        await reader.read()
        keep = False
    return status, keep, head


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return
        await reader.readexactly(size + 2)


@dataclass
class _Tally:
    t0: float
    t1: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    wrong_redirects: int = 0


@dataclass
class _Wire:
    """A request (or the steps of a journey) as sent, in the pieces around its `unique`
    markers."""

    steps: list[list[bytes]]
    head_only: bool
    width: int  # of the marker; 0 without one

    def bytes(self, stamp: Iterator[int]) -> list[bytes]:
        if all(len(pieces) == 1 for pieces in self.steps):
            return [pieces[0] for pieces in self.steps]
        number = f"{next(stamp):0{self.width}d}".encode()
        return [number.join(pieces) for pieces in self.steps]


async def _client(
    host: str,
    port: int,
    wires: list[_Wire],
    turn: Iterator[int],
    tally: _Tally,
    schedule: Iterator[float] | None,
    ok_location: bytes | None = None,
    stamp: Iterator[int] | None = None,
) -> None:
    count = len(wires)
    stamps = stamp if stamp is not None else itertools.count()
    t0, t1 = tally.t0, tally.t1
    latencies = tally.latencies
    statuses = tally.statuses
    clock = time.perf_counter
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while clock() < t1:
            if writer is None or reader is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    if clock() >= t0:
                        tally.transport_errors += 1
                    await asyncio.sleep(RECONNECT_PAUSE_S)
                    continue
            chosen = wires[next(turn) % count]
            wire = chosen.bytes(stamps)
            if schedule is None:
                start = clock()
            else:
                start = next(schedule)
                if start > clock():
                    await asyncio.sleep(start - clock())
            try:
                for step, request in enumerate(wire, start=1):
                    writer.write(request)
                    status, keep, head = await _read_response(reader, head_only=chosen.head_only)
                    if step == len(wire) or not 300 <= status < 400 or not keep:
                        break  # a step that does not lead on ends the journey with its answer
            except (OSError, EOFError, ValueError, ProtocolError, asyncio.LimitOverrunError):
                # IncompleteReadError is an EOFError: the server closed the connection.
                writer.close()
                reader = writer = None
                if clock() >= t0:
                    tally.transport_errors += 1
                continue
            end = clock()
            if t0 <= end < t1:
                latencies.append(end - start)
                if (
                    ok_location is not None
                    and 300 <= status < 400
                    and not _location(head).startswith(ok_location)
                ):
                    tally.wrong_redirects += 1
                else:
                    statuses[status] = statuses.get(status, 0) + 1
            if not keep:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def _schedule(first: float, interval: float) -> Iterator[float]:
    for j in itertools.count():
        yield first + j * interval


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _nearest_rank(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def _run(spec: Mapping[str, Any], loop_name: str) -> LoadResult:
    marker = base64.b64decode(spec["unique"]) if spec.get("unique") else None
    wires = []
    for encoded_steps in spec["wires"]:
        steps = [base64.b64decode(encoded) for encoded in encoded_steps]
        pieces = [wire.split(marker) if marker else [wire] for wire in steps]
        head_only = steps[0].startswith(b"HEAD ")
        wires.append(_Wire(pieces, head_only, len(marker) if marker else 0))
    location = spec.get("ok_location")
    ok_location = location.encode("latin-1") if location is not None else None
    ok_statuses = set(spec["ok_statuses"]) if spec.get("ok_statuses") is not None else None
    stamp = itertools.count()
    connections = int(spec["connections"])
    duration = float(spec["duration_s"])
    now = time.perf_counter()
    tally = _Tally(t0=now + float(spec["warmup_s"]), t1=now + float(spec["warmup_s"]) + duration)
    turn = itertools.count()
    rate = float(spec.get("rate") or 0)
    schedules: list[Iterator[float] | None] = [None] * connections
    if rate:
        # Connection k sends at now + (k + j * connections) / rate, j = 0, 1, 2 …
        schedules = [_schedule(now + k / rate, connections / rate) for k in range(connections)]
    tasks = [
        asyncio.create_task(
            _client(spec["host"], int(spec["port"]), wires, turn, tally, plan, ok_location, stamp)
        )
        for plan in schedules
    ]
    await asyncio.sleep(max(0.0, tally.t0 - time.perf_counter()))
    cpu_start = _cpu_s()
    await asyncio.sleep(max(0.0, tally.t1 - time.perf_counter()))
    cpu = _cpu_s() - cpu_start
    _, pending = await asyncio.wait(tasks, timeout=GRACE_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error

    ordered = sorted(tally.latencies)
    requests = len(ordered)

    def is_ok(status: int) -> bool:
        return status in ok_statuses if ok_statuses is not None else 200 <= status < 300

    ok = sum(n for status, n in tally.statuses.items() if is_ok(status))
    bad = {status: n for status, n in sorted(tally.statuses.items()) if not is_ok(status)}
    errors = sum(bad.values()) + tally.transport_errors + tally.wrong_redirects
    return LoadResult(
        connections=connections,
        duration_s=duration,
        requests=requests,
        ok=ok,
        errors=errors,
        errors_by_status=bad,
        transport_errors=tally.transport_errors,
        rps=round(requests / duration, 1),
        p50_ms=round(_nearest_rank(ordered, 50) * 1000, 3),
        p90_ms=round(_nearest_rank(ordered, 90) * 1000, 3),
        p99_ms=round(_nearest_rank(ordered, 99) * 1000, 3),
        max_ms=round(ordered[-1] * 1000 if ordered else 0.0, 3),
        mean_ms=round(sum(ordered) / requests * 1000 if requests else 0.0, 3),
        cpu_s=round(cpu, 3),
        cpu_share=round(cpu / duration, 3),
        loop=loop_name,
        rate=rate or None,
        p95_ms=round(_nearest_rank(ordered, 95) * 1000, 3),
        wrong_redirects=tally.wrong_redirects,
    )


def run_spec(spec: Mapping[str, Any]) -> LoadResult:
    """Run a load in this process (``load_run`` calls this in a child)."""
    choice = spec.get("loop", "auto")
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            return uvloop.run(_run(spec, "uvloop"))
    elif choice != "asyncio":
        raise ValueError(f"unknown loop {choice!r}")
    return asyncio.run(_run(spec, "asyncio"))


def _spec_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    body = args.body.encode() if args.body is not None else b""
    method = args.method or ("POST" if body else "GET")
    parts = urlsplit(args.url)
    request = PreparedRequest(method, parts.path or "/", headers, body)
    return {
        "host": parts.hostname,
        "port": parts.port or 80,
        "wires": [[base64.b64encode(request.wire(parts.netloc)).decode()]],
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "loop": args.loop,
        "rate": args.rate,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m motcua.bench.load", description=__doc__)
    parser.add_argument("url", nargs="?", help="one URL to load (or --spec)")
    parser.add_argument("--spec", help="(internal) a JSON spec file, - for stdin")
    parser.add_argument("-c", "--connections", type=int, default=50)
    parser.add_argument("-d", "--duration", type=float, default=10)
    parser.add_argument("-w", "--warmup", type=float, default=2)
    parser.add_argument("-X", "--method")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--body", help="request body (POST unless -X says otherwise)")
    parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    parser.add_argument("--rate", type=float, help="open loop: requests/s in all")
    args = parser.parse_args(argv)
    if args.spec:
        text = sys.stdin.read() if args.spec == "-" else Path(args.spec).read_text()
        spec = json.loads(text)
    elif args.url:
        spec = _spec_from_arguments(args)
    else:
        parser.error("give a URL or --spec")
    result = run_spec(spec)
    print(json.dumps(result.as_dict()), flush=True)


if __name__ == "__main__":
    main()
