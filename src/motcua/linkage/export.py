"""Results as spreadsheets open them: a cell that starts like a formula (=, +, -, @, a tab or a
carriage return) gets a leading apostrophe, so that a sector record's text is shown, never run
(CSV injection; OWASP). For the CSV the engine writes and for the CSV the back office streams."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 10_000
# Spreadsheets read UTF-8 CSV right only with the byte-order mark.
BOM = "\ufeff"


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula, made plain text; anything else as it
    is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe_sql(column: str) -> str:
    """The same rule in DuckDB's SQL, for a text column (a quoted identifier or expression)."""
    return (
        f"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {column} ELSE {column} END"
    )


def parquet_as_csv(path: Path) -> Iterator[bytes]:
    """A Parquet file as UTF-8 CSV (header first), streamed batch by batch, every text cell made
    spreadsheet-safe."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(name) for name in parquet.schema_arrow.names])
    yield (BOM + buffer.getvalue()).encode()
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        buffer.seek(0)
        buffer.truncate()
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*columns, strict=True):
            writer.writerow([spreadsheet_safe(value) for value in row])
        yield buffer.getvalue().encode()
