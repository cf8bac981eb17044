"""One linkage job, stage by stage, resumable: `link()` run again on the same output folder
skips the stages and prediction chunks a crashed run had finished.

    check → features → deterministic → train → predict (chunks) → resolve → report

Every stage writes its result to the output folder before it is marked done in
`manifest.json`, and a chunk's file appears under its final name only when it is complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from django.utils.translation import gettext as _
from splink import DuckDBAPI

from motcua.linkage import model, report
from motcua.linkage.dataset import DatasetError, DatasetInfo, column_mapping, dataset_load
from motcua.linkage.export import spreadsheet_safe_sql
from motcua.linkage.features import features_build, features_open
from motcua.linkage.resolve import (
    CLASSES,
    COMPARISONS,
    MARGIN,
    REVIEW_EVIDENCE,
    candidates_sql,
    deterministic_sql,
    labels_read,
    prior_weight,
    resolve,
)

__all__ = ["DatasetError", "LinkResult", "LinkSpec", "Progress", "dataset_check", "link"]

CHUNK_RECORDS = 100_000  # records scored per prediction chunk: the unit of resuming
OUTPUT_FORMATS = ("parquet", "csv")
BACKENDS = ("duckdb", "spark")


@dataclass(frozen=True)
class LinkSpec:
    dataset: Path
    kind: str
    out_dir: Path
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> column, over the kind's
    labels: Path | None = None  # CSV sector_id,pin,is_match: clerical decisions fed back
    output_format: str = "parquet"
    backend: str = "duckdb"  # where pairs are scored: "spark" for datasets beyond one machine
    threads: int | None = None  # DuckDB threads; all cores when None
    memory_limit: str = "16GB"


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class LinkResult:
    records: int
    linked: int
    review: int
    unlinked: int
    by_method: dict[str, int]
    output: Path
    report: Path
    review_pairs: Path
    wall_s: float


def dataset_check(spec: LinkSpec) -> DatasetInfo:
    """Everything that can be said about the input before linking starts (raises DatasetError)."""
    if spec.output_format not in OUTPUT_FORMATS:
        raise DatasetError(
            {"format": _("định dạng %(OUTPUT_FORMATS)s") % {"OUTPUT_FORMATS": OUTPUT_FORMATS}}
        )
    if spec.backend not in BACKENDS:
        raise DatasetError({"backend": f"backend must be one of {BACKENDS}"})
    if spec.labels and not spec.labels.is_file():
        raise DatasetError({"labels": _("không có tệp: %(labels)s") % {"labels": spec.labels}})
    with _duckdb(spec, spec.out_dir) as con:
        return _load(con, spec)


def _load(con: duckdb.DuckDBPyConnection, spec: LinkSpec) -> DatasetInfo:
    mapping = column_mapping(spec.kind, spec.columns)
    return dataset_load(con, spec.dataset, mapping, explicit=set(spec.columns))


@contextmanager
def _duckdb(spec: LinkSpec, work: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "threads": spec.threads or os.cpu_count() or 1,
            "memory_limit": spec.memory_limit,
            "temp_directory": str(work / "tmp"),
            "preserve_insertion_order": False,
        }
    )
    try:
        yield con
    finally:
        con.close()


class _Manifest:
    """Which stages are done, for which input: a different input starts the folder over."""

    def __init__(self, spec: LinkSpec, info: DatasetInfo, registry_csv: Path) -> None:
        self.path = spec.out_dir / "manifest.json"
        self.inputs = {
            "dataset": _fingerprint(spec.dataset),
            "registry": _fingerprint(registry_csv),
            "kind": spec.kind,
            "mapping": info.mapping,
            "labels": _fingerprint(spec.labels) if spec.labels else None,
        }
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.done: list[str] = saved.get("done", []) if saved.get("inputs") == self.inputs else []
        if not self.done:
            shutil.rmtree(spec.out_dir / "chunks", ignore_errors=True)
        elif saved.get("inputs", {}).get("labels") != self.inputs["labels"]:
            self.done = [s for s in self.done if s in ("features", "deterministic", "train")]

    def has(self, stage: str) -> bool:
        return stage in self.done

    def mark(self, stage: str) -> None:
        self.done.append(stage)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"inputs": self.inputs, "done": self.done}, indent=1))
        tmp.replace(self.path)


def _fingerprint(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def link(
    spec: LinkSpec, *, registry_csv: Path, progress: Callable[[Progress], None] | None = None
) -> LinkResult:
    """Link the dataset to the registry extract; outputs go to spec.out_dir."""
    started = time.perf_counter()
    out = spec.out_dir
    out.mkdir(parents=True, exist_ok=True)
    tell = progress or (lambda _: None)
    with _duckdb(spec, out) as con:
        info = _load(con, spec)
        manifest = _Manifest(spec, info, registry_csv)
        tell(Progress("features", 0, info.rows))
        if not manifest.has("features"):
            features_build(con, info.mapping, registry_csv, out)
            manifest.mark("features")
        features_open(con, out)
        if not con.execute("SELECT count(*) FROM registry").fetchall()[0][0]:
            raise DatasetError({"registry": _("CSDL dân cư trống")})
        tell(Progress("deterministic", 0, info.rows))
        if not manifest.has("deterministic"):
            con.execute(f"COPY ({deterministic_sql()}) TO '{out / 'deterministic.parquet'}'")
            manifest.mark("deterministic")
        _rest(con, out)
        if _nothing_left(con):
            _no_pairs(out, manifest)
        tell(Progress("train", 0, 1))
        if not manifest.has("train"):
            linker = model.linker_new(DuckDBAPI(con), model.settings())
            model.train(linker)
            linker.misc.save_model_to_json(str(out / "model.json"), overwrite=True)
            manifest.mark("train")
        if spec.backend == "spark":
            _predict_on_spark(con, out, manifest, tell)
        else:
            _predict(con, out, manifest, tell)
        tell(Progress("resolve", 0, info.rows))
        con.execute(
            f"CREATE OR REPLACE VIEW candidates AS SELECT * FROM read_parquet('{out / 'chunks'}/*.parquet')"
        )
        candidates = "candidates"
        if not manifest.has("resolve"):
            resolve(con, candidates, labels_read(con, spec.labels), prior=_prior(out))
            _write_outputs(con, spec, info, candidates)
            manifest.mark("resolve")
        else:
            con.execute(
                f"CREATE TABLE results AS SELECT * FROM read_parquet('{out / 'results.parquet'}')"
            )
        tell(Progress("report", 0, 1))
        counts = _counts(con)
        if not manifest.has("report"):
            report.write(con, out / "report.html", spec=spec, info=info, counts=counts)
            manifest.mark("report")
    return LinkResult(
        records=info.rows,
        linked=counts["class"].get("linked", 0),
        review=counts["class"].get("review", 0),
        unlinked=counts["class"].get("unlinked", 0),
        by_method=counts["method"],
        output=out / f"links.{spec.output_format}",
        report=out / "report.html",
        review_pairs=out / "review_pairs.parquet",
        wall_s=round(time.perf_counter() - started, 1),
    )


def _rest(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """What the deterministic passes left: the probabilistic model sees only these."""
    con.execute(
        f"CREATE OR REPLACE TABLE deterministic AS SELECT * FROM read_parquet('{out / 'deterministic.parquet'}')"
    )
    con.execute(
        "CREATE OR REPLACE TABLE records_rest AS SELECT * FROM records "
        "WHERE unique_id NOT IN (SELECT rec_id FROM deterministic)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE registry_rest AS SELECT * FROM registry "
        "WHERE unique_id NOT IN (SELECT pin FROM deterministic)"
    )


def _prior(out: Path) -> float:
    model_json = out / "model.json"
    if not model_json.exists():  # no model was needed
        return 0.0
    return prior_weight(json.loads(model_json.read_text())["probability_two_random_records_match"])


def _nothing_left(con: duckdb.DuckDBPyConnection) -> bool:
    counts = con.execute(
        "SELECT (SELECT count(*) FROM records_rest), (SELECT count(*) FROM registry_rest)"
    ).fetchall()[0]
    return 0 in counts


def _no_pairs(out: Path, manifest: _Manifest) -> None:
    """The deterministic passes answered every record (or took every citizen): no model."""
    weights = ", ".join(f"NULL::DOUBLE AS w_{c}" for c in COMPARISONS)
    (out / "chunks").mkdir(exist_ok=True)
    duckdb.execute(
        "COPY (SELECT NULL::VARCHAR AS rec_id, NULL::VARCHAR AS pin, NULL::DOUBLE AS match_weight, "
        f"NULL::DOUBLE AS match_probability, {weights} WHERE false) "
        f"TO '{out / 'chunks' / '0001-of-0001.parquet'}' (FORMAT parquet)"
    )
    for stage in ("train", "predict"):
        if not manifest.has(stage):
            manifest.mark(stage)


def _predict(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    manifest: _Manifest,
    tell: Callable[[Progress], None],
) -> None:
    chunks = out / "chunks"
    chunks.mkdir(exist_ok=True)
    (rows,) = con.execute("SELECT count(*) FROM records_rest").fetchall()[0]
    total = max(1, math.ceil(rows / CHUNK_RECORDS))
    if manifest.has("predict"):
        return
    linker = model.linker_new(DuckDBAPI(con), out / "model.json")
    # Pairs too weak to be reviewed, or to rival a pair that could be, are not kept.
    floor = _prior(out) + REVIEW_EVIDENCE - MARGIN
    for number in range(1, total + 1):
        tell(Progress("predict", number - 1, total))
        path = chunks / f"{number:04d}-of-{total:04d}.parquet"
        if path.exists():
            continue
        scored = linker.inference.predict_chunk(
            left_chunk=(number, total), threshold_match_weight=floor
        )
        partial = path.with_suffix(".partial")
        con.execute(
            f"COPY ({candidates_sql(scored.physical_name)}) TO '{partial}' (FORMAT parquet)"
        )
        scored.drop_table_from_database_and_remove_from_cache()
        partial.replace(path)
    tell(Progress("predict", total, total))
    manifest.mark("predict")


def _predict_on_spark(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    manifest: _Manifest,
    tell: Callable[[Progress], None],
) -> None:
    """All pairs in one Spark job (Spark retries its own failed tasks), from the tables the
    deterministic passes left, written to Parquet for the cluster to read."""
    if manifest.has("predict"):
        return
    from motcua.linkage.spark import predict_with_spark  # pyspark only where Spark is used

    tell(Progress("predict", 0, 1))
    for table in ("records_rest", "registry_rest"):
        con.execute(f"COPY {table} TO '{out / f'{table}.parquet'}' (FORMAT parquet)")
    scored = predict_with_spark(
        records=out / "records_rest.parquet",
        registry=out / "registry_rest.parquet",
        model_json=out / "model.json",
        out=out / "spark",
        floor=_prior(out) + REVIEW_EVIDENCE - MARGIN,
    )
    chunks = out / "chunks"
    chunks.mkdir(exist_ok=True)
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{scored}/*.parquet')) "
        f"TO '{chunks / '0001-of-0001.parquet'}' (FORMAT parquet)"
    )
    tell(Progress("predict", 1, 1))
    manifest.mark("predict")


def _write_outputs(
    con: duckdb.DuckDBPyConnection, spec: LinkSpec, info: DatasetInfo, candidates: str
) -> None:
    """Every input record with its answer; the review pairs with both sides and each field's
    weight; the results table for a resumed report."""
    out = spec.out_dir
    sector_id = '"' + info.mapping["sector_id"].replace('"', '""') + '"'
    answer = (
        "CASE WHEN s.class = 'linked' THEN s.pin END AS linked_pin, "
        "CASE WHEN s.class = 'review' THEN s.pin END AS candidate_pin, "
        "s.match_weight, s.match_probability, s.class, s.method"
    )
    options = "(FORMAT csv, HEADER true)" if spec.output_format == "csv" else "(FORMAT parquet)"
    columns = "raw.* EXCLUDE (row_no)"
    if spec.output_format == "csv":  # the sector's text, never a spreadsheet formula
        columns = ", ".join(
            _csv_column(name, kind)
            for name, kind, *_ in con.execute("DESCRIBE raw").fetchall()
            if name != "row_no"
        )
    con.execute(
        f"COPY (SELECT {columns}, {answer} FROM raw "
        f"JOIN results s ON s.rec_id = trim(CAST(raw.{sector_id} AS VARCHAR)) ORDER BY raw.row_no) "
        f"TO '{out / f'links.{spec.output_format}'}' {options}"
    )
    con.execute(f"COPY results TO '{out / 'results.parquet'}' (FORMAT parquet)")
    facts = "struct_pack(full_name := {t}.full_name, birth_date := {t}.birth, sex := {t}.sex, cmnd := {t}.cmnd, ward := {t}.ward, address := {t}.address)"
    birth = (
        "concat_ws('/', lpad(CAST(birth_day AS VARCHAR), 2, '0'), "
        "lpad(CAST(birth_month AS VARCHAR), 2, '0'), CAST(birth_year AS VARCHAR)) AS birth"
    )
    weights = ", ".join(f"{c} := round(c.w_{c}, 2)" for c in COMPARISONS)
    con.execute(
        f"""COPY (
  SELECT s.rec_id AS sector_id, s.pin, s.match_weight, s.match_probability,
    CAST(to_json({facts.format(t="r")}) AS VARCHAR) AS record,
    CAST(to_json({facts.format(t="g")}) AS VARCHAR) AS citizen,
    CAST(to_json(struct_pack({weights})) AS VARCHAR) AS contributions
  FROM results s
  JOIN (SELECT *, {birth} FROM records) r ON r.unique_id = s.rec_id
  JOIN (SELECT *, {birth} FROM registry) g ON g.unique_id = s.pin
  LEFT JOIN {candidates} c ON c.rec_id = s.rec_id AND c.pin = s.pin
  WHERE s.class = 'review' ORDER BY s.match_weight DESC
) TO '{out / "review_pairs.parquet"}' (FORMAT parquet)"""
    )


def _csv_column(name: str, kind: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    if kind != "VARCHAR":
        return f"raw.{quoted}"
    return f"{spreadsheet_safe_sql(f'raw.{quoted}')} AS {quoted}"


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    by_class = dict.fromkeys(CLASSES, 0) | dict(
        con.execute("SELECT class, count(*) FROM results GROUP BY class").fetchall()
    )
    by_method = dict(
        con.execute(
            "SELECT method, count(*) FROM results WHERE class = 'linked' GROUP BY method ORDER BY 1"
        ).fetchall()
    )
    return {"class": by_class, "method": by_method}
