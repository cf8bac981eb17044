"""Gap-free counters for numbers people see, such as the NNNN of a receipt code
`AGENCY-YYMMDD-NNNN` (scope "receipt:{agency_code}:{yymmdd}")."""

from __future__ import annotations

from django.db import connection

from motcua.core.models import Sequence

_TABLE = connection.ops.quote_name(Sequence._meta.db_table)
# The table name comes from the model, never from input.
_NEXT = (
    f"INSERT INTO {_TABLE} (scope, value) VALUES (%s, 1) "  # noqa: S608
    f"ON CONFLICT (scope) DO UPDATE SET value = {_TABLE}.value + 1 RETURNING value"
)
MAX_SCOPE_LENGTH = Sequence._meta.get_field("scope").max_length or 0


def sequence_next(scope: str) -> int:
    """The next value of `scope`'s counter, 1 for a new scope, in one statement that runs in the
    caller's transaction.

    The upsert keeps the counter's row locked until the caller commits or rolls back: two
    callers on one scope never get the same number (the second waits, which serialises the
    submissions of one agency on one day: acceptable), and a rolled-back caller gives its number
    back, so numbers have no gaps.
    """
    if not 0 < len(scope) <= MAX_SCOPE_LENGTH:
        raise ValueError(f"scope must be 1 to {MAX_SCOPE_LENGTH} characters: {scope!r}")
    with connection.cursor() as cursor:
        cursor.execute(_NEXT, [scope])
        (value,) = cursor.fetchone()
    return int(value)


_RAISE = (
    f"INSERT INTO {_TABLE} (scope, value) SELECT * FROM unnest(%s::text[], %s::bigint[]) "  # noqa: S608
    f"ON CONFLICT (scope) DO UPDATE SET value = GREATEST({_TABLE}.value, EXCLUDED.value)"
)


def sequences_raise(values: dict[str, int]) -> None:
    """Bring counters up to numbers used by a bulk load, so that the next value follows them."""
    if values:
        with connection.cursor() as cursor:
            cursor.execute(_RAISE, [list(values), list(values.values())])


def sequences_of(prefix: str) -> dict[str, int]:
    """The counters whose scope starts with `prefix`, at their current values."""
    return dict(Sequence.objects.filter(scope__startswith=prefix).values_list("scope", "value"))
