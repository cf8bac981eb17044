"""Prediction on Spark, for datasets beyond one machine: the heavy pairwise scoring of a model
trained with DuckDB, on Splink's SparkAPI.

The trained model.json holds its SQL in the dialect it was trained in (DuckDB: double-quoted
columns, `jaro_winkler_similarity`), which Spark reads differently (a double-quoted name is a
string there). So the SQL comes from the same source as the model's, `model.settings()`,
rendered for Spark, and everything learnt (the prior, every level's m and u, the term-frequency
weights) from model.json. The model must have been trained from today's settings: each level's
SQL, rendered in the model's dialect, must be what model.json says, or nothing is scored.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import sqlglot
from pyspark.sql import SparkSession
from splink import SettingsCreator
from splink.backends.spark import SparkAPI, similarity_jar_location

from motcua.linkage import model
from motcua.linkage.features import RECORDS, REGISTRY
from motcua.linkage.resolve import COMPARISONS, candidates_sql

CANDIDATE_COLUMNS = (
    "rec_id",
    "pin",
    "match_weight",
    "match_probability",
    *(f"w_{c}" for c in COMPARISONS),
)
SHUFFLE_PARTITIONS = 4  # local sessions only; a cluster's session brings its own


def spark_local() -> SparkSession:
    """A Spark session on this machine (two cores) with Splink's similarity functions, bound to
    the loopback interface and without its web UI: nothing is fetched or served."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # read when the JVM starts
    return (
        SparkSession.builder.master("local[2]")
        .appName("motcua-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS))
        .config("spark.default.parallelism", str(SHUFFLE_PARTITIONS))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def spark_settings(model_json: Path) -> dict[str, Any]:
    """The trained model with its SQL rewritten for Spark (raises ValueError when model.json was
    not trained from today's `model.settings()`)."""
    trained = json.loads(model_json.read_text())
    source = model.settings()
    theirs = source.create_settings_dict(trained.get("sql_dialect", "duckdb"))
    ours = source.create_settings_dict("spark")
    if len(trained["comparisons"]) != len(theirs["comparisons"]):
        raise ValueError(f"{model_json}: not trained from these settings (comparisons differ)")
    settings = copy.deepcopy(trained)
    for comparison, their, our in zip(
        settings["comparisons"], theirs["comparisons"], ours["comparisons"], strict=True
    ):
        levels = comparison["comparison_levels"]
        expected = [level["sql_condition"] for level in their["comparison_levels"]]
        if [level["sql_condition"] for level in levels] != expected:
            raise ValueError(
                f"{model_json}: comparison {comparison.get('output_column_name')!r} "
                "was not trained from these settings"
            )
        for level, spark_level in zip(levels, our["comparison_levels"], strict=True):
            level["sql_condition"] = spark_level["sql_condition"]
    settings["blocking_rules_to_generate_predictions"] = [
        {key: value for key, value in rule.items() if key != "sql_dialect"}
        for rule in ours["blocking_rules_to_generate_predictions"]
    ]
    settings["sql_dialect"] = "spark"
    return settings


def predict_with_spark(
    *,
    records: Path,
    registry: Path,
    model_json: Path,
    out: Path,
    floor: float,
    spark: SparkSession | None = None,
) -> Path:
    """Score every blocked pair of records.parquet × registry.parquet with the trained model,
    keep those weighing at least `floor`, and write them as `resolve.candidates_sql` does
    (record, citizen, weight, probability, each field's weight; best three per record) to the
    Parquet folder out/candidates, which is returned (DuckDB: `read_parquet('<dir>/*.parquet')`).

    Without `spark`, a local session is started (and left running for the next call)."""
    spark = spark or spark_local()
    for table, path in ((RECORDS, records), (REGISTRY, registry)):
        spark.read.parquet(str(path)).createOrReplaceTempView(f"{table}_rest")
    # Intermediate tables are cached in memory, unless the session has a checkpoint folder
    # (a cluster's shared storage), where Splink writes them as Parquet.
    has_checkpoint_dir = spark.sparkContext._jsc.sc().getCheckpointDir().isDefined()
    db_api = SparkAPI(
        spark_session=spark, break_lineage_method=None if has_checkpoint_dir else "persist"
    )
    linker = model.linker_new(db_api, SettingsCreator.from_path_or_dict(spark_settings(model_json)))
    scored = linker.inference.predict(threshold_match_weight=floor)
    # DuckDB's QUALIFY becomes a window in a subquery; its helper column is left out.
    sql = sqlglot.transpile(
        candidates_sql(scored.physical_name), read="duckdb", write="spark", pretty=True
    )[0]
    target = out / "candidates"
    spark.sql(sql).select(*CANDIDATE_COLUMNS).write.mode("overwrite").parquet(str(target))
    scored.drop_table_from_database_and_remove_from_cache()
    return target
