"""Sector datasets: what a record's fields are called in each kind of sector database, reading a
CSV or Parquet file, and checking it before any work starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# The fields linkage understands; a dataset maps some of them to its own column names.
FIELDS = ("sector_id", "full_name", "birth_date", "sex", "cmnd", "pin", "ward", "address")
REQUIRED = ("sector_id", "full_name", "birth_date")


@dataclass(frozen=True)
class Kind:
    label: StrOrPromise
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> the dataset's column


_VIETNAMESE_COLUMNS = {
    "full_name": "ho_ten",
    "birth_date": "ngay_sinh",  # dd/mm/yyyy, mm/yyyy or yyyy
    "sex": "gioi_tinh",  # Nam / Nữ (or M / F)
    "cmnd": "so_cmnd",
    "pin": "so_dinh_danh",
    "ward": "ma_xa",  # a geo unit key, old or new ("pre2025:29365", "2025:29365")
    "address": "dia_chi",
}
KINDS: dict[str, Kind] = {
    "gplx": Kind(gettext_lazy("Giấy phép lái xe"), {"sector_id": "so_gplx", **_VIETNAMESE_COLUMNS}),
    "bhyt": Kind(
        gettext_lazy("Thẻ bảo hiểm y tế"),
        {"sector_id": "ma_the", **_VIETNAMESE_COLUMNS},
    ),
    "generic": Kind(gettext_lazy("Dữ liệu chuyên ngành"), {f: f for f in FIELDS}),
}


class DatasetError(ValueError):
    """The dataset cannot be linked as it is; `errors` says why, per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class DatasetInfo:
    rows: int
    columns: list[str]
    mapping: dict[str, str]  # field -> the dataset's column, only fields the dataset has


def column_mapping(kind: str, overrides: Mapping[str, str]) -> dict[str, str]:
    if kind not in KINDS:
        choices = ", ".join(KINDS)
        raise DatasetError({"kind": _("loại dữ liệu không rõ %(choices)s") % {"choices": choices}})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise DatasetError(
            {"columns": _("trường không rõ: %(join)s") % {"join": ", ".join(unknown)}}
        )
    return {**KINDS[kind].columns, **overrides}


def relation_sql(path: Path) -> str:
    """A DuckDB table function reading the file with every column as text."""
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header = true, all_varchar = true)"


# Accepted dates: yyyy-mm-dd, d/m/yyyy, m/yyyy and yyyy. A day above 12 in the month's place
# with a month in the day's place is a day/month swap, read as such.
DATE_PARTS_SQL = """
WITH t AS (SELECT {key}, trim(CAST({column} AS VARCHAR)) AS raw FROM {source}),
s AS (
  SELECT {key}, raw,
    CASE
      WHEN raw IS NULL OR raw = '' THEN NULL
      WHEN regexp_full_match(raw, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN
        [split_part(raw, '-', 1), split_part(raw, '-', 2), split_part(raw, '-', 3)]
      WHEN regexp_full_match(raw, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') THEN
        [split_part(raw, '/', 3), split_part(raw, '/', 2), split_part(raw, '/', 1)]
      WHEN regexp_full_match(raw, '\\d{{1,2}}/\\d{{4}}') THEN
        [split_part(raw, '/', 2), split_part(raw, '/', 1), NULL]
      WHEN regexp_full_match(raw, '\\d{{4}}') THEN [raw, NULL, NULL]
      ELSE ['bad', NULL, NULL]
    END AS p
  FROM t
),
n AS (
  SELECT {key}, raw, p[1] = 'bad' AS unreadable,
    TRY_CAST(p[1] AS INTEGER) AS y, TRY_CAST(p[2] AS INTEGER) AS m0, TRY_CAST(p[3] AS INTEGER) AS d0
  FROM s
),
w AS (
  SELECT {key}, raw, unreadable, y,
    CASE WHEN m0 > 12 AND d0 <= 12 THEN d0 ELSE m0 END AS m,
    CASE WHEN m0 > 12 AND d0 <= 12 THEN m0 ELSE d0 END AS d
  FROM n
)
SELECT {key}, raw, y, m, d,
  unreadable
  OR (y IS NOT NULL AND (y < 1880 OR y > year(current_date)))
  OR (m IS NOT NULL AND (m < 1 OR m > 12))
  OR (d IS NOT NULL AND TRY_CAST(printf('%04d-%02d-%02d', y, m, d) AS DATE) IS NULL) AS bad
FROM w
"""


_SEX = {"m": "M", "nam": "M", "f": "F", "nu": "F", "nữ": "F"}
SEX_SQL = (
    "CASE "
    + " ".join(f"WHEN lower(trim({{c}})) = '{text}' THEN '{code}'" for text, code in _SEX.items())
    + " END"
)
EXAMPLES = 3


def dataset_load(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping[str, str], explicit: set[str]
) -> DatasetInfo:
    """Load the file into the table `raw` (every column as text, plus `row_no`) and check it
    whole: every problem is reported at once, before any linking starts."""
    if not path.is_file():
        raise DatasetError({"dataset": _("không có tệp: %(path)s") % {"path": path}})
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE raw AS SELECT row_number() OVER () AS row_no, * "
            f"FROM {relation_sql(path)}"
        )
    except duckdb.Error as exc:
        raise DatasetError({"dataset": _("không đọc được tệp: %(exc)s") % {"exc": exc}}) from None
    columns = [row[0] for row in con.execute("DESCRIBE raw").fetchall()][1:]
    errors: dict[str, str] = {}
    present: dict[str, str] = {}
    for name, column in mapping.items():
        if column in columns:
            present[name] = column
        elif name in REQUIRED or name in explicit:
            errors[name] = _("thiếu cột '%(column)s' (tệp có: %(join)s)") % {
                "column": column,
                "join": ", ".join(columns),
            }
    if errors:
        raise DatasetError(errors)
    errors.update(_value_errors(con, present))
    if errors:
        raise DatasetError(errors)
    (rows,) = con.execute("SELECT count(*) FROM raw").fetchall()[0]
    if rows == 0:
        raise DatasetError({"dataset": _("tệp không có bản ghi")})
    return DatasetInfo(rows=rows, columns=columns, mapping=present)


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _value_errors(con: duckdb.DuckDBPyConnection, present: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    sector_id = _q(present["sector_id"])
    empty, duplicates = con.execute(
        f"SELECT count(*) FILTER (WHERE coalesce(trim({sector_id}), '') = ''), "
        f"count({sector_id}) - count(DISTINCT {sector_id}) FROM raw"
    ).fetchall()[0]
    if empty or duplicates:
        errors["sector_id"] = _(
            "mã bản ghi trống hoặc trùng: %(empty)s trống, %(duplicates)s trùng"
        ) % {
            "empty": empty,
            "duplicates": duplicates,
        }
    for name, (bad_rows, message) in _CHECKS.items():
        if name not in present:
            continue
        bad = con.execute(
            f"SELECT count(*) OVER (), * FROM ({bad_rows(_q(present[name]))}) "
            f"ORDER BY row_no LIMIT {EXAMPLES}"
        ).fetchall()
        if bad:
            examples = ", ".join(
                _("dòng %(row)s: %(value)s") % {"row": row[1], "value": repr(row[2])} for row in bad
            )
            errors[name] = _("%(message)s; %(count)s sai, ví dụ %(examples)s") % {
                "message": message,
                "count": bad[0][0],
                "examples": examples,
            }
    return errors


def _bad_dates(column: str) -> str:
    parts = DATE_PARTS_SQL.format(key="row_no", column=column, source="raw")
    return f"SELECT row_no, raw FROM ({parts}) WHERE bad"


def _bad_sex(column: str) -> str:
    return (
        f"SELECT row_no, {column} FROM raw WHERE coalesce(trim({column}), '') <> '' "
        f"AND {SEX_SQL.format(c=column)} IS NULL"
    )


def _not_digits(count: str) -> Callable[[str], str]:
    def bad_rows(column: str) -> str:
        return (
            f"SELECT row_no, {column} FROM raw WHERE coalesce(trim({column}), '') <> '' "
            f"AND NOT regexp_full_match(trim({column}), '{count}')"
        )

    return bad_rows


# Each checked field: the query for its bad rows (given the quoted column), and the message.
_CHECKS: dict[str, tuple[Callable[[str], str], StrOrPromise]] = {
    "birth_date": (
        _bad_dates,
        gettext_lazy("ngày sinh không đúng dạng"),
    ),
    "sex": (_bad_sex, gettext_lazy("giới tính phải là Nam/Nữ (hoặc M/F)")),
    "cmnd": (
        _not_digits("\\d{9}|\\d{12}"),
        gettext_lazy("số CMND có 9 hoặc 12 chữ số"),
    ),
    "pin": (_not_digits("\\d{12}"), gettext_lazy("số định danh có 12 chữ số")),
}
