"""What linkage compares: the same features for sector records and for citizens, in DuckDB.

Names become keys (normalize.name_keys: accented and accent-free, family / middle / given, the
family's spelling group, tokens in any order); dates become year, month and day, each possibly
unknown; places become today's ward and province (an old ward resolves through geo's old → new
mapping). Both tables are written to Parquet so that a resumed job starts from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from motcua.geo.selectors import units_now
from motcua.linkage.dataset import DATE_PARTS_SQL, SEX_SQL
from motcua.linkage.normalize import name_keys

RECORDS, REGISTRY = "records", "registry"
NAME_KEYS = (
    "name_acc", "name_fold", "family", "middle", "given", "given_acc", "family_group",
    "sorted_tokens",
)  # fmt: skip
# Every feature column, in the order both tables have them.
COLUMNS = (
    "unique_id", "full_name", *NAME_KEYS, "birth_year", "birth_month", "birth_day", "dob", "dm_key", "sex", "cmnd",
    "pin", "ward", "province", "address",
)  # fmt: skip


def features_build(
    con: duckdb.DuckDBPyConnection, mapping: Mapping[str, str], registry_csv: Path, out: Path
) -> None:
    """From the checked dataset in table `raw` and the registry extract, write
    out/records.parquet and out/registry.parquet."""
    con.execute(
        "CREATE OR REPLACE TABLE reg_raw AS SELECT * FROM read_csv(?, header = true, "
        "all_varchar = true)",
        [str(registry_csv)],
    )
    rec = _RecordColumns(mapping)
    _name_table(con, rec.full_name)
    _place_table(con, rec.ward)
    con.execute(f"CREATE OR REPLACE TEMP TABLE rec_dates AS {rec.dates()}")
    for table, select in ((RECORDS, rec.select()), (REGISTRY, _REGISTRY_SELECT)):
        con.execute(f"COPY ({select}) TO '{out / f'{table}.parquet'}' (FORMAT parquet)")


def features_open(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """The tables `records` and `registry`, from the Parquet files of an earlier stage."""
    for table in (RECORDS, REGISTRY):
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?)",
            [str(out / f"{table}.parquet")],
        )


def _name_table(con: duckdb.DuckDBPyConnection, record_name: str) -> None:
    """Name keys are computed once per distinct name: millions of records share far fewer."""
    names = (
        con.sql(
            f"SELECT DISTINCT n FROM (SELECT full_name AS n FROM reg_raw "
            f"UNION ALL SELECT {record_name} FROM raw) WHERE n IS NOT NULL"
        )
        .to_arrow_table()
        .column(0)
        .to_pylist()
    )
    keys = [name_keys(name) for name in names]
    table = pa.table(
        {
            "name": names,
            "name_acc": [k.accented for k in keys],
            "name_fold": [k.folded for k in keys],
            "family": [k.family or None for k in keys],
            "middle": [k.middle for k in keys],
            "given": [k.given or None for k in keys],
            "given_acc": [k.given_accented or None for k in keys],
            "family_group": [k.family_group or None for k in keys],
            "sorted_tokens": [k.sorted_tokens for k in keys],
        }
    )
    con.register("name_keys_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE names AS SELECT * FROM name_keys_arrow")
    con.unregister("name_keys_arrow")


def _place_table(con: duckdb.DuckDBPyConnection, record_ward: str | None) -> None:
    record_wards = f"UNION SELECT trim({record_ward}) FROM raw" if record_ward else ""
    keys = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT k FROM (SELECT ward AS k FROM reg_raw {record_wards}) "
            "WHERE k IS NOT NULL"
        ).fetchall()
    ]
    now = units_now(keys)
    table = pa.table(
        {
            "key": list(now),
            "ward_now": [unit.ward_key for unit in now.values()],
            "province_now": [unit.province_key for unit in now.values()],
        },
        schema=pa.schema(
            [("key", pa.string()), ("ward_now", pa.string()), ("province_now", pa.string())]
        ),
    )
    con.register("places_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE places AS SELECT * FROM places_arrow")
    con.unregister("places_arrow")


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


class _RecordColumns:
    """SQL for the record side, from the dataset's own column names (absent ones are NULL)."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = mapping

    def __getattr__(self, field: str) -> str:
        column = self.mapping.get(field)
        return f"raw.{_quoted(column)}" if column else "NULL"

    def dates(self) -> str:
        column = self.mapping.get("birth_date")
        return DATE_PARTS_SQL.format(key="row_no", column=_quoted(column or ""), source="raw")

    def select(self) -> str:
        digits = "nullif(regexp_replace(coalesce({c}, ''), '\\D', '', 'g'), '')"
        cmnd = digits.format(c=self.cmnd)
        return f"""
SELECT trim(CAST({self.sector_id} AS VARCHAR)) AS unique_id, {self.full_name} AS full_name,
  n.name_acc, n.name_fold, n.family, n.middle, n.given, n.given_acc, n.family_group,
  n.sorted_tokens, d.y AS birth_year, d.m AS birth_month, d.d AS birth_day, {_DOB.format(p="d.")},
  {_DM_KEY.format(p="d.")}, {SEX_SQL.format(c=self.sex)} AS sex,
  CASE WHEN length({cmnd}) = 9 OR length({cmnd}) = 12 THEN {cmnd} END AS cmnd,
  {digits.format(c=self.pin)} AS pin, p.ward_now AS ward, p.province_now AS province,
  {self.address} AS address
FROM raw
JOIN rec_dates d USING (row_no)
LEFT JOIN names n ON n.name = {self.full_name}
LEFT JOIN places p ON p.key = trim({self.ward})
"""


_DOB = "CASE WHEN {p}d IS NOT NULL THEN printf('%04d-%02d-%02d', {p}y, {p}m, {p}d) END AS dob"
_DM_KEY = (
    "CASE WHEN {p}d IS NOT NULL THEN least({p}m, {p}d) * 100 + greatest({p}m, {p}d) END AS dm_key"
)

_REGISTRY_SELECT = f"""
WITH c AS (
  SELECT *, CAST(birth_date AS DATE) AS born FROM reg_raw
), d AS (
  SELECT *, year(born) AS y,
    CASE WHEN birth_date_precision IN ('day', 'month') THEN month(born) END AS m,
    CASE WHEN birth_date_precision = 'day' THEN day(born) END AS d
  FROM c
)
SELECT d.pin AS unique_id, d.full_name, n.name_acc, n.name_fold, n.family, n.middle, n.given,
  n.given_acc, n.family_group, n.sorted_tokens, d.y AS birth_year, d.m AS birth_month, d.d AS birth_day,
  {_DOB.format(p="d.")}, {_DM_KEY.format(p="d.")}, d.sex, nullif(d.cmnd, '') AS cmnd,
  d.pin, p.ward_now AS ward, p.province_now AS province, d.address
FROM d
LEFT JOIN names n ON n.name = d.full_name
LEFT JOIN places p ON p.key = d.ward
"""
