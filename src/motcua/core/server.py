"""The web server: gunicorn with threaded workers over the WSGI application."""

from __future__ import annotations

import os
from typing import Any

from django.core.wsgi import get_wsgi_application
from gunicorn.app.base import BaseApplication


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
    os.environ["MOTCUA_WEB_WORKERS"] = str(workers)  # per-process shares of rate limits
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
