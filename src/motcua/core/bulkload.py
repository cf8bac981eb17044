"""Bulk loading with COPY, shared by the synthetic seeds: COPY statements from model fields, the
foreign-key trigger switch, and dropping non-unique indexes for a load into empty tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from psycopg import sql

# (model, the fields copied in this order, the batch attribute holding its rows)
CopyTable = tuple[type[models.Model], tuple[str, ...], str]


def column_of(model: type[models.Model], field_name: str) -> str:
    model_field = model._meta.get_field(field_name)
    assert isinstance(model_field, models.Field) and model_field.column
    return model_field.column


def _copy_statement(model: type[models.Model], fields: tuple[str, ...]) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(column_of(model, name)) for name in fields)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(model._meta.db_table), columns)


def may_skip_fk_triggers() -> bool:
    """Whether this role may set session_replication_role (a superuser's privilege)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        return bool(cursor.fetchone()[0])


def copy_batch(tables: Sequence[CopyTable], batch: Any, *, skip_fk_triggers: bool) -> None:
    """COPY the batch's rows into each table, inside the caller's transaction. A batch whose rows
    refer only to existing rows or to its own may skip the foreign-key checks (deferred triggers
    queued per row, the costliest part of a load) under the replica role, where allowed."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        if skip_fk_triggers:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for model, fields, attribute in tables:
            with cursor.copy(_copy_statement(model, fields)) as copy:
                for row in getattr(batch, attribute):
                    copy.write_row(row)
        if skip_fk_triggers:
            cursor.execute("SET LOCAL session_replication_role = origin")  # triggers apply again


class SecondaryIndexes:
    """The non-unique indexes of some tables. Building an index once over the loaded rows is
    several times cheaper than updating it row by row; unique indexes stay, as they enforce
    constraints."""

    def __init__(self, models_: Iterable[type[models.Model]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT c.relname, pg_get_indexdef(i.indexrelid)
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique""",
                [[model._meta.db_table for model in models_]],
            )
            self.definitions: dict[str, str] = dict(cursor.fetchall())
        self.dropped = False

    def drop(self) -> None:
        if self.dropped:
            return
        with connection.cursor() as cursor:
            for name in self.definitions:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)).as_string())
        self.dropped = True

    def rebuild(self) -> None:
        with connection.cursor() as cursor:
            for definition in self.definitions.values():
                cursor.execute(definition)

    def rebuild_missing(self) -> None:
        """After a failure: whichever indexes a committed batch had dropped come back."""
        with transaction.atomic(), connection.cursor() as cursor:
            for definition in self.definitions.values():
                cursor.execute(
                    definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                )
