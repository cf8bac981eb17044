"""`motcua bench linkage`: link a synthetic sector dataset with known truth to the registry, and
beside it, on the same data, a plain Splink model (its own name and date-of-birth comparisons).
Runs inside a database of its own (see the bench command)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker

from motcua.linkage import model
from motcua.linkage.benchmark import benchmark_make

KIND = "gplx"
PLAIN_THRESHOLD = 0.9  # a plain model's usual cut-off for a link


def run(
    *, registry: int, records: int, seed: int, plain: bool, database_url: str
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="motcua-bench-linkage-") as tmp:
        work = Path(tmp)
        _log(f"building the registry ({registry:,}) and the dataset ({records:,}) ...")
        started = time.perf_counter()
        files = benchmark_make(
            registry=registry, records=records, seed=seed, out_dir=work / "data", kind=KIND
        )
        make_s = time.perf_counter() - started
        _log("linking with motcua link ...")
        wall_s, peak_mb = _motcua_link(files.dataset, work / "out", database_url)
        ours = _scores(work / "out" / "links.parquet", files.truth)
        plain_s, baseline = _plain_splink(work / "out", files.truth) if plain else _NOT_RUN
    return {
        "registry": registry,
        "records": records,
        "wall_s": round(wall_s, 1),
        "records_per_s": round(records / wall_s),
        "peak_mb": peak_mb,
        "precision": ours["precision"],
        "recall": ours["recall"],
        "f1": ours["f1"],
        "splink_f1": baseline["f1"],
        "splink_wall_s": plain_s if plain_s is None else round(plain_s, 1),
        "splink_precision": baseline["precision"],
        "splink_recall": baseline["recall"],
        "linked": ours["linked"],
        "review": ours["review"],
        "review_with_truth": ours["review_right"],
        "make_benchmark_s": round(make_s, 1),
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _motcua_link(dataset: Path, out: Path, database_url: str) -> tuple[float, int]:
    """The whole job as an operator runs it (registry extract, linking, audit and access log),
    in a process of its own so that its peak memory is its own."""
    command = [sys.executable, "-m", "motcua.cli", "link", "--dataset", str(dataset)]
    command += ["--kind", KIND, "--out", str(out)]
    started = time.perf_counter()
    # Its report goes to stderr: stdout carries only the benchmark's JSON line.
    subprocess.run(
        command,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=sys.stderr,
        check=True,
    )
    wall_s = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall_s, round(peak_kb / 1024)


def _scores(links: Path, truth: Path) -> dict[str, Any]:
    """Precision and recall of the `linked` class against the truth; `review` counts as not
    linked (a person decides those)."""
    linked, correct, in_registry, review, review_right = duckdb.execute(
        """
        SELECT count(*) FILTER (WHERE l.class = 'linked'),
               count(*) FILTER (WHERE l.class = 'linked' AND l.linked_pin = t.pin),
               count(*) FILTER (WHERE t.pin IS NOT NULL),
               count(*) FILTER (WHERE l.class = 'review'),
               count(*) FILTER (WHERE l.class = 'review' AND l.candidate_pin = t.pin)
        FROM read_parquet(?) l JOIN read_parquet(?) t ON t.sector_id = l.so_gplx
        """,
        [str(links), str(truth)],
    ).fetchall()[0]
    return {
        **_prf(linked, correct, in_registry),
        "linked": linked,
        "review": review,
        "review_right": review_right,
    }


def _prf(linked: int, correct: int, in_registry: int) -> dict[str, float]:
    precision = correct / linked if linked else 0.0
    recall = correct / in_registry if in_registry else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


# Figures of a plain model that was not run (--no-plain): null in the JSON line.
_NOT_RUN: tuple[float | None, Mapping[str, float | None]] = (
    None,
    dict.fromkeys(("precision", "recall", "f1")),
)


def _plain_splink(out: Path, truth: Path) -> tuple[float | None, Mapping[str, float | None]]:
    """Splink's default name and date comparisons on lower-cased names and ISO dates (what a
    first model would be given), best candidate per record above PLAIN_THRESHOLD."""
    _log("linking with a plain Splink model ...")
    con = duckdb.connect()
    for table in ("records", "registry"):
        con.execute(
            f"CREATE TABLE {table}_rest AS SELECT unique_id, lower(nfc_normalize(full_name)) AS full_name, "
            "dob AS birth_date FROM read_parquet(?)",
            [str(out / f"{table}.parquet")],
        )
    started = time.perf_counter()
    linker: Linker = model.linker_new(DuckDBAPI(con), model.plain_settings())
    model.plain_train(linker)
    scored = linker.inference.predict(threshold_match_probability=PLAIN_THRESHOLD)
    con.execute(
        f"CREATE TABLE best AS SELECT rec_id, pin FROM ({_pairs(scored.physical_name)}) "
        "QUALIFY row_number() OVER (PARTITION BY rec_id ORDER BY match_weight DESC) = 1"
    )
    wall_s = time.perf_counter() - started
    linked, correct, in_registry = con.execute(
        """
        SELECT count(b.rec_id), count(*) FILTER (WHERE b.pin = t.pin),
               count(*) FILTER (WHERE t.pin IS NOT NULL)
        FROM read_parquet(?) t LEFT JOIN best b ON b.rec_id = t.sector_id
        """,
        [str(truth)],
    ).fetchall()[0]
    return wall_s, _prf(linked, correct, in_registry)


def _pairs(prediction: str) -> str:
    return (
        "SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END "
        "AS rec_id, CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l "
        f"END AS pin, match_weight FROM {prediction}"
    )
