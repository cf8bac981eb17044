"""The web server: gunicorn with threaded workers over the WSGI application, and the background
worker (Procrastinate) that runs beside it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from django.core.wsgi import get_wsgi_application
from gunicorn.app.base import BaseApplication

from motcua.db import use_app_role


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return get_wsgi_application()


def serve(*, host: str, port: int, workers: int, threads: int, quiet: bool = False) -> None:
    use_app_role()  # serve as the role that owns no tables (motcua.db; core migration 0006)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None if quiet else "-",
        "loglevel": "warning",
        "graceful_timeout": 5,
    }
    _Gunicorn(options).run()


# How long a running background job may take to finish once the worker is asked to stop; jobs
# still running after that are interrupted (linkage jobs resume on their next run).
WORKER_GRACE_S = 10


@contextlib.contextmanager
def background_worker(*, concurrency: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """A `motcua procrastinate worker` process for the duration of the block: it shares this
    process's database (DATABASE_URL is exported by then) and is stopped when the block ends."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "motcua.cli",
            "procrastinate",
            "worker",
            f"--concurrency={concurrency}",
            f"--shutdown-graceful-timeout={WORKER_GRACE_S}",
        ],
        env=os.environ.copy(),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=WORKER_GRACE_S + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
