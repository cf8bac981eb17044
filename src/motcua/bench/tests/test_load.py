"""The load generator against a small stdlib server in a thread, and its response reader alone."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from motcua.bench.harness import free_port
from motcua.bench.load import LoadResult, PreparedRequest, json_post, load_run, read_response


def _short(
    base: str, requests: Sequence[PreparedRequest] | Callable[[int], PreparedRequest], **kw: Any
) -> LoadResult:
    """Four connections for a second, after a fifth of a second of warm-up."""
    return load_run(base, requests, connections=4, duration_s=1.0, warmup_s=0.2, **kw)


class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.connections = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts: _Counts

    def setup(self) -> None:
        super().setup()
        # Head and body leave in two writes: without this, Nagle holds the body until the
        # client's delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.counts.lock:
            self.counts.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        with self.counts.lock:
            self.counts.requests += 1
        body = b'{"status":"ok"}'
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n")
            return
        self.send_response(
            {"/ok": 200, "/close": 200, "/teapot": 418, "/form": 302}.get(self.path, 404)
        )
        if self.path == "/form":  # a form that leads on to its confirmation step
            self.send_header("Location", "/ok")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[tuple[str, _Counts]]:
    counts = _Counts()
    handler = type("Handler", (_Handler,), {"counts": counts})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", counts
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_counts_requests_over_kept_alive_connections(server: tuple[str, _Counts]) -> None:
    base, counts = server
    result = _short(base, [json_post("/ok", {"pin": "001"}, token="k")])
    assert result.requests > 50
    assert result.ok == result.requests
    assert result.errors == 0
    assert result.rps == pytest.approx(result.requests / 1.0, abs=0.1)
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    # The warm-up and the last in-flight requests are served but not counted.
    assert counts.requests >= result.requests
    assert counts.connections == 4
    assert result.cpu_s > 0


def test_reports_non_2xx_answers_by_status(server: tuple[str, _Counts]) -> None:
    base, _ = server
    requests = [PreparedRequest("GET", "/ok"), PreparedRequest("GET", "/teapot")]
    result = _short(base, requests)
    assert set(result.errors_by_status) == {418}
    assert result.errors == result.errors_by_status[418]
    assert result.ok + result.errors == result.requests
    # Requests go out in turn across connections: about half of each.
    assert abs(result.ok - result.errors) <= 10


def test_a_journey_of_steps_counts_once_with_both_latencies(server: tuple[str, _Counts]) -> None:
    base, counts = server
    journey = PreparedRequest("POST", "/form", then=PreparedRequest("POST", "/ok"))
    result = _short(base, [journey])
    assert result.requests > 20 and result.ok == result.requests and result.errors == 0
    assert counts.requests >= 2 * result.requests  # each journey is two requests


def test_a_journey_whose_first_step_fails_stops_there(server: tuple[str, _Counts]) -> None:
    base, _ = server
    journey = PreparedRequest("POST", "/teapot", then=PreparedRequest("POST", "/ok"))
    result = _short(base, [journey])
    assert result.ok == 0 and set(result.errors_by_status) == {418}


def test_a_callable_builds_the_requests(server: tuple[str, _Counts]) -> None:
    base, _ = server
    paths = ["/ok", "/ok", "/missing"]
    result = _short(base, lambda i: PreparedRequest("GET", paths[i]), distinct=3)
    assert set(result.errors_by_status) == {404}
    assert result.ok > result.errors > 0


def test_open_loop_keeps_to_the_rate(server: tuple[str, _Counts]) -> None:
    base, _ = server
    result = _short(base, [PreparedRequest("GET", "/ok")], rate=200)
    assert result.rate == 200
    assert result.requests == pytest.approx(200, abs=10)
    assert result.errors == 0


def test_reconnects_after_connection_close(server: tuple[str, _Counts]) -> None:
    base, counts = server
    result = _short(base, [PreparedRequest("GET", "/close")])
    assert result.requests > 20
    assert result.errors == 0
    assert counts.connections >= result.requests


def test_reads_chunked_answers(server: tuple[str, _Counts]) -> None:
    base, counts = server
    result = _short(base, [PreparedRequest("GET", "/chunked")])
    assert result.requests > 50
    assert result.errors == 0
    assert counts.connections == 4


def test_counts_refused_connections_as_transport_errors() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    result = load_run(
        base, [PreparedRequest("GET", "/")], connections=2, duration_s=0.3, warmup_s=0
    )
    assert result.requests == 0
    assert result.transport_errors > 0
    assert result.errors == result.transport_errors


def test_wire_format() -> None:
    request = json_post("/api/x", {"a": 1}, token="abc")
    assert request.wire("h:1", "/pre") == (
        b"POST /pre/api/x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 7\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer abc\r\n\r\n"
        b'{"a":1}'
    )
    assert PreparedRequest("GET", "/").wire("h") == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


def _read(data: bytes, **kwargs: Any) -> tuple[int, bool, bytes]:
    async def go() -> tuple[int, bool, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        status, keep = await read_response(reader, **kwargs)
        return status, keep, await reader.read()

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiNEXT", (200, True, b"NEXT")),
        (b"HTTP/1.1 201 Created\r\ncontent-length:0\r\n\r\nNEXT", (201, True, b"NEXT")),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", (200, False, b"")),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nNEXT",
            (200, True, b"NEXT"),
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\nNEXT", (204, True, b"NEXT")),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", (200, False, b"")),
        (b"HTTP/1.1 500 Oops\r\n\r\nto the end", (500, False, b"")),
    ],
)
def test_read_response(data: bytes, expected: tuple[int, bool, bytes]) -> None:
    assert _read(data) == expected


def test_read_response_of_head_has_no_body() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nNEXT"
    assert _read(data, head_only=True) == (200, True, b"NEXT")


def test_read_response_refuses_what_is_not_http() -> None:
    with pytest.raises(Exception, match="SSH"):
        _read(b"SSH-2.0-OpenSSH\r\n\r\n")
