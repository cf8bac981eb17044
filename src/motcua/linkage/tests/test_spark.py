"""The Spark backend scores as DuckDB does: a model trained with DuckDB on a small made-up
sample (no database), its pairs scored by both engines, the same pairs and the same weights."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from splink import DuckDBAPI

from motcua.linkage import model
from motcua.linkage.features import COLUMNS, RECORDS, REGISTRY
from motcua.linkage.normalize import name_keys
from motcua.linkage.resolve import MARGIN, REVIEW_EVIDENCE, candidates_sql, prior_weight
from motcua.linkage.spark import CANDIDATE_COLUMNS, predict_with_spark, spark_local

CITIZENS, SAMPLE, SEED = 1500, 300, 7
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thị Thu", ""]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Lan",
    "Lam",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thủy",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Hòa",
    "Khánh",
    "Ly",
]


def _row(
    uid: str,
    name: str,
    born: tuple[int, int, int | None],
    *,
    sex: str | None,
    cmnd: str | None,
    pin: str | None,
    ward: str,
) -> dict[str, Any]:
    """One row of records.parquet / registry.parquet, as features.py makes them."""
    keys = name_keys(name)
    year, month, day = born
    return {
        "unique_id": uid,
        "full_name": name,
        "name_acc": keys.accented,
        "name_fold": keys.folded,
        "family": keys.family or None,
        "middle": keys.middle,
        "given": keys.given or None,
        "given_acc": keys.given_accented or None,
        "family_group": keys.family_group or None,
        "sorted_tokens": keys.sorted_tokens,
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "dob": f"{year:04d}-{month:02d}-{day:02d}" if day is not None else None,
        "dm_key": min(month, day) * 100 + max(month, day) if day is not None else None,
        "sex": sex,
        "cmnd": cmnd,
        "pin": pin,
        "ward": ward,
        "province": ward.split("-")[0],
        "address": None,
    }


def _person(rng: random.Random) -> tuple[str, tuple[int, int, int | None], str]:
    name = " ".join(w for w in (rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)) if w)
    born = (rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
    return name, born, f"P{rng.randint(1, 3)}-W{rng.randint(1, 20)}"


def _typo(name: str, rng: random.Random) -> str:
    letters = list(name)
    letters[rng.randrange(len(letters))] = rng.choice("abcdeghiklmnop")
    return "".join(letters)


def _sample(out: Path) -> None:
    """Citizens, and records about some of them (typos, capitals, unknown days, swapped day and
    month, years off by one, moves) and about people the registry does not know."""
    rng = random.Random(SEED)
    registry = []
    for number in range(CITIZENS):
        name, born, ward = _person(rng)
        cmnd = f"{rng.randrange(10**9):09d}" if rng.random() < 0.5 else None
        pin = f"{number:012d}"
        registry.append(_row(pin, name, born, sex=rng.choice("MF"), cmnd=cmnd, pin=pin, ward=ward))
    records = []
    for number in range(SAMPLE):
        uid = f"R{number:05d}"
        if rng.random() < 0.1:
            name, born, ward = _person(rng)
            records.append(_row(uid, name, born, sex=None, cmnd=None, pin=None, ward=ward))
            continue
        citizen = rng.choice(registry)
        name, year, month, day = (
            citizen["full_name"],
            citizen["birth_year"],
            citizen["birth_month"],
            citizen["birth_day"],
        )
        roll = rng.random()
        name = _typo(name, rng) if roll < 0.15 else name.upper() if roll < 0.25 else name
        if rng.random() < 0.05:
            day = None
        elif rng.random() < 0.05 and day <= 12:
            month, day = day, month
        year += rng.random() < 0.03
        ward = (
            citizen["ward"]
            if rng.random() < 0.85
            else f"{citizen['province']}-W{rng.randint(1, 20)}"
        )
        records.append(
            _row(
                uid,
                name,
                (year, month, day),
                sex=citizen["sex"] if rng.random() < 0.97 else None,
                cmnd=citizen["cmnd"] if rng.random() < 0.3 else None,
                pin=None,
                ward=ward,
            )
        )
    for table, rows in ((RECORDS, records), (REGISTRY, registry)):
        assert tuple(rows[0]) == COLUMNS
        pq.write_table(pa.Table.from_pylist(rows), out / f"{table}.parquet")


@pytest.fixture
def spark() -> Iterator[SparkSession]:
    session = spark_local()
    yield session
    session.stop()


def test_spark_scores_as_duckdb(tmp_path: Path, spark: SparkSession) -> None:
    _sample(tmp_path)
    con = duckdb.connect()
    for table in (RECORDS, REGISTRY):
        con.execute(
            f"CREATE TABLE {table}_rest AS SELECT * FROM read_parquet(?)",  # noqa: S608 (constants)
            [str(tmp_path / f"{table}.parquet")],
        )
    trainer = model.linker_new(DuckDBAPI(con), model.settings())
    model.train(trainer)
    model_json = tmp_path / "model.json"
    trainer.misc.save_model_to_json(str(model_json), overwrite=True)
    prior = json.loads(model_json.read_text())["probability_two_random_records_match"]
    floor = prior_weight(prior) + REVIEW_EVIDENCE - MARGIN  # as the pipeline's

    # DuckDB, as pipeline._predict scores a one-chunk job.
    linker = model.linker_new(DuckDBAPI(con), model_json)
    scored = linker.inference.predict_chunk(left_chunk=(1, 1), threshold_match_weight=floor)
    duck = con.execute(candidates_sql(scored.physical_name)).fetchall()

    path = predict_with_spark(
        records=tmp_path / "records.parquet",
        registry=tmp_path / "registry.parquet",
        model_json=model_json,
        out=tmp_path,
        floor=floor,
        spark=spark,
    )
    result = con.execute("SELECT * FROM read_parquet(?)", [f"{path}/*.parquet"])
    assert tuple(column[0] for column in result.description) == CANDIDATE_COLUMNS
    on_spark = result.fetchall()

    assert len(duck) > SAMPLE // 2  # most records found someone: the sample means something
    by_pair = {(row[0], row[1]): row for row in duck}
    spark_by_pair = {(row[0], row[1]): row for row in on_spark}
    assert len(spark_by_pair) == len(on_spark)
    assert set(spark_by_pair) == set(by_pair)
    for pair, row in spark_by_pair.items():
        # match weight, probability and each field's weight
        assert row[2:] == pytest.approx(by_pair[pair][2:], abs=1e-6), pair
