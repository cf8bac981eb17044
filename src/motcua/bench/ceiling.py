"""The ceiling: the work of an endpoint done by a bare WSGI callable, without Django, served by the
same server software, so that a benchmark can tell what the framework costs.

The benchmark names a handler ``(cursor, body) -> answer`` by dotted path, e.g.
``motcua.identity.bench:ceiling_handler``, where ``body`` is the request's JSON object and the
answer is a JSON-able dict (status 200) or a ``(status, dict)`` pair. The cursor is on a
psycopg 3 connection of the serving thread (one per thread, autocommit, opened on first use);
with ``transaction=True`` each call runs inside BEGIN … COMMIT; without a database URL it is
None. Routes: ``GET /healthz`` answers ``{"status": "ok"}`` without the database, any other
path takes a POST to the handler. The app reads no headers: it does not authenticate.

::

    with running_ceiling("motcua.identity.bench:ceiling_handler", database_url) as base:
        load_run(base, requests)

This module must stay importable without Django: gunicorn's workers import it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import psycopg

HANDLER_ENV = "MOTCUA_CEILING_HANDLER"
DATABASE_ENV = "MOTCUA_CEILING_DATABASE_URL"
TRANSACTION_ENV = "MOTCUA_CEILING_TRANSACTION"

Answer = dict[str, Any] | tuple[int, dict[str, Any]]
Handler = Callable[[Any, dict[str, Any]], Answer]
StartResponse = Callable[..., Any]


def echo(cursor: Any, body: dict[str, Any]) -> Answer:
    """A handler without the database: the body back."""
    return {"echo": body}


def resolve(dotted: str) -> Handler:
    """``package.module:function`` → the function."""
    module_name, _, name = dotted.partition(":")
    if not module_name or not name:
        raise ValueError(f"a handler is 'package.module:function', not {dotted!r}")
    handler: Handler = getattr(importlib.import_module(module_name), name)
    return handler


class CeilingApp:
    def __init__(
        self, handler: Handler, database_url: str | None = None, *, transaction: bool = False
    ) -> None:
        self.handler = handler
        self.database_url = database_url
        self.transaction = transaction
        self._local = threading.local()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            return _reply(start_response, 200, {"status": "ok"})
        if environ["REQUEST_METHOD"] != "POST":
            return _reply(start_response, 405, {"detail": "POST only"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except ValueError:
            return _reply(start_response, 400, {"detail": "body is not JSON"})
        if not isinstance(body, dict):
            return _reply(start_response, 400, {"detail": "body is not a JSON object"})
        try:
            answer = self._handle(body)
        except psycopg.OperationalError:
            self._drop_connection()
            traceback.print_exc(file=sys.stderr)
            return _reply(start_response, 503, {"detail": "database unavailable"})
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _reply(start_response, 500, {"detail": "handler failed"})
        status, payload = answer if isinstance(answer, tuple) else (200, answer)
        return _reply(start_response, status, payload)

    def _handle(self, body: dict[str, Any]) -> Answer:
        if self.database_url is None:
            return self.handler(None, body)
        connection = self._connection()
        if self.transaction:
            with connection.transaction(), connection.cursor() as cursor:
                return self.handler(cursor, body)
        with connection.cursor() as cursor:
            return self.handler(cursor, body)

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            assert self.database_url is not None
            connection = psycopg.connect(self.database_url, autocommit=True)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


def _reply(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
    data = json.dumps(payload, separators=(",", ":")).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def from_env() -> CeilingApp:
    """The app as the environment configures it (gunicorn calls this in each worker)."""
    return CeilingApp(
        resolve(os.environ[HANDLER_ENV]),
        os.environ.get(DATABASE_ENV) or None,
        transaction=os.environ.get(TRANSACTION_ENV) == "1",
    )


def gunicorn_command(port: int, *, workers: int, threads: int) -> list[str]:
    """gunicorn with the options of `motcua serve --quiet` (motcua.core.server), on this app."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
        "motcua.bench.ceiling:from_env()",
    ]


@contextmanager
def running_ceiling(
    handler: str,
    database_url: str | None = None,
    *,
    workers: int = 2,
    threads: int = 4,
    transaction: bool = False,
) -> Iterator[str]:
    """The ceiling app under gunicorn in a subprocess on a free port; its base URL."""
    from motcua.bench.harness import free_port, serving

    resolve(handler)  # fail here, not in a worker
    port = free_port()
    env = {**os.environ, HANDLER_ENV: handler, TRANSACTION_ENV: "1" if transaction else "0"}
    env.pop(DATABASE_ENV, None)
    if database_url is not None:
        env[DATABASE_ENV] = database_url
    with serving(gunicorn_command(port, workers=workers, threads=threads), port, env=env) as base:
        yield base
