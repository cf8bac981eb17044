"""The ceiling app: called in-process as a WSGI callable, and served by gunicorn."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any
from wsgiref.util import setup_testing_defaults

import httpx
import pytest

from motcua.bench.ceiling import CeilingApp, echo, resolve, running_ceiling
from motcua.bench.load import json_post, load_run
from motcua.bench.tests import handlers


def _call(app: CeilingApp, method: str, path: str, body: bytes = b"") -> tuple[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.append(status)
        assert dict(headers)["Content-Type"] == "application/json"

    data = b"".join(app(environ, start_response))
    return started[0], json.loads(data)


def test_healthz_and_echo_without_a_database() -> None:
    app = CeilingApp(echo)
    assert _call(app, "GET", "/healthz") == ("200 OK", {"status": "ok"})
    assert _call(app, "POST", "/any", b'{"pin":"1"}') == ("200 OK", {"echo": {"pin": "1"}})


def test_refuses_what_it_cannot_handle() -> None:
    app = CeilingApp(echo)
    assert _call(app, "GET", "/any")[0] == "405 Method Not Allowed"
    assert _call(app, "POST", "/any", b"{nope")[0] == "400 Bad Request"
    assert _call(app, "POST", "/any", b"[1]")[0] == "400 Bad Request"


def test_handler_chooses_the_status() -> None:
    assert _call(CeilingApp(handlers.teapot), "POST", "/", b"{}") == (
        "418 I'm a Teapot",
        {"detail": "short and stout"},
    )


def test_handler_failure_is_a_500(capsys: pytest.CaptureFixture[str]) -> None:
    assert _call(CeilingApp(handlers.boom), "POST", "/", b"{}")[0] == "500 Internal Server Error"
    assert "handler bug" in capsys.readouterr().err


def test_resolve() -> None:
    assert resolve("motcua.bench.tests.handlers:teapot") is handlers.teapot
    with pytest.raises(ValueError, match=r"package\.module:function"):
        resolve("motcua.bench.tests.handlers")


@pytest.mark.parametrize(("transaction", "state"), [(False, "IDLE"), (True, "INTRANS")])
def test_cursor_on_the_database(transaction: bool, state: str) -> None:
    # Statements without tables, on the database the test settings started.
    app = CeilingApp(handlers.add_one, os.environ["DATABASE_URL"], transaction=transaction)
    assert _call(app, "POST", "/", b'{"n": 41}') == ("200 OK", {"n": 42, "in_transaction": state})


def test_one_connection_per_thread() -> None:
    app = CeilingApp(handlers.connection_id, os.environ["DATABASE_URL"])
    first = _call(app, "POST", "/", b"{}")[1]
    assert _call(app, "POST", "/", b"{}")[1] == first


def test_the_app_module_imports_no_django() -> None:
    code = (
        "import sys, motcua.bench.ceiling; print(any(m.startswith('django') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout.strip() == b"False"


def test_served_by_gunicorn() -> None:
    with running_ceiling("motcua.bench.ceiling:echo", workers=1, threads=2) as base:
        assert httpx.get(base + "/healthz").json() == {"status": "ok"}
        assert httpx.post(base + "/lookup", json={"pin": "7"}).json() == {"echo": {"pin": "7"}}
        result = load_run(
            base, [json_post("/lookup", {"pin": "7"})], connections=4, duration_s=1, warmup_s=0.2
        )
    assert result.requests > 50
    assert result.errors == 0
