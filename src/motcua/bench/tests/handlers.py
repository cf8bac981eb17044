"""Ceiling handlers for the tests (named by dotted path, as a benchmark names its own)."""

from __future__ import annotations

from typing import Any


def add_one(cursor: Any, body: dict[str, Any]) -> dict[str, Any]:
    cursor.execute("SELECT %s::int + 1", [body["n"]])
    row = cursor.fetchone()
    return {"n": row[0], "in_transaction": cursor.connection.info.transaction_status.name}


def connection_id(cursor: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {"connection": id(cursor.connection)}


def teapot(cursor: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 418, {"detail": "short and stout"}


def boom(cursor: Any, body: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("handler bug")
