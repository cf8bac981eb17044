"""From candidate pairs to one answer per record: linked, review or unlinked.

Clerical decisions come first, then the deterministic passes, then the scored pairs, greedily by
weight so that a record links to at most one citizen and a citizen to at most one record. A
scored pair is linked only when it is strong and clearly ahead of every rival for either side;
a strong pair that is not clearly ahead goes to clerical review.

The anchoring and the rivals are computed in DuckDB; only the greedy walk over the pairs strong
enough to review runs in Python, streamed in batches, so that memory follows the links made and
not the candidate pairs (three per record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

LINKED, REVIEW, UNLINKED = "linked", "review", "unlinked"
CLASSES = (LINKED, REVIEW, UNLINKED)
# Thresholds on the evidence of a pair: its match weight less the prior's weight, i.e. the sum
# of what the fields say (log2 of the Bayes factor). The prior falls as the registry grows (one
# true match among more citizens), so a threshold on the match weight itself would link less
# and less as the registry grows; a look-alike shows up instead as a rival candidate, which the
# margin catches. Set on `motcua bench linkage` (a million records against a million citizens);
# a rival within 5 bits (32 times less likely) leaves the choice to a person.
LINK_EVIDENCE = 21.0
REVIEW_EVIDENCE = 15.0
MARGIN = 5.0
COMPARISONS = ("family", "middle", "given", "dob", "sex", "cmnd", "place")
TF_COMPARISONS = ("family", "given")
BATCH_ROWS = 100_000  # scored pairs brought into Python at a time


def deterministic_sql() -> str:
    """Exact PIN (corroborated by the birth year or the given name, so that a mistyped PIN
    does not link a stranger), then exact old CMND number with the whole date of birth; one
    row per record and per citizen."""
    return """
WITH hits AS (
  SELECT r.unique_id AS rec_id, g.unique_id AS pin, 'pin' AS method, 1 AS pass
  FROM records r JOIN registry g ON g.unique_id = r.pin
  WHERE r.birth_year = g.birth_year OR r.given = g.given
  UNION ALL
  SELECT r.unique_id, g.unique_id, 'cmnd_dob', 2
  FROM records r JOIN registry g ON g.cmnd = r.cmnd AND g.dob = r.dob
), per_record AS (
  SELECT * FROM hits QUALIFY row_number() OVER (PARTITION BY rec_id ORDER BY pass, pin) = 1
)
SELECT rec_id, pin, method FROM per_record
QUALIFY row_number() OVER (PARTITION BY pin ORDER BY pass, rec_id) = 1
"""


def candidates_sql(prediction: str) -> str:
    """Splink's scored pairs as (record, citizen), with each field's weight, best three per
    record: the best is the link and the next ones measure the margin."""
    weights = ", ".join(
        f"mw_{c}" + (f" + coalesce(mw_tf_adj_{c}, 0)" if c in TF_COMPARISONS else "") + f" AS w_{c}"
        for c in COMPARISONS
    )
    return f"""
SELECT * FROM (
  SELECT
    CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS rec_id,
    CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS pin,
    match_weight, match_probability, {weights}
  FROM {prediction}
) QUALIFY row_number() OVER (PARTITION BY rec_id ORDER BY match_weight DESC, pin) <= 3
"""


@dataclass(frozen=True)
class Labels:
    confirmed: dict[str, str]  # record -> PIN
    rejected: set[tuple[str, str]]


def labels_read(con: duckdb.DuckDBPyConnection, path: Path | None) -> Labels:
    if path is None:
        return Labels({}, set())
    rows = con.execute(
        "SELECT CAST(sector_id AS VARCHAR), CAST(pin AS VARCHAR), "
        "lower(CAST(is_match AS VARCHAR)) IN ('true', '1', 't') "
        "FROM read_csv(?, header = true, all_varchar = true)",
        [str(path)],
    ).fetchall()
    return Labels(
        confirmed={rec: pin for rec, pin, match in rows if match},
        rejected={(rec, pin) for rec, pin, match in rows if not match},
    )


def prior_weight(probability: float) -> float:
    """The match weight of the prior: what a pair weighs before any field is compared."""
    return math.log2(probability / (1 - probability))


def resolve(
    con: duckdb.DuckDBPyConnection, candidates: str, labels: Labels, *, prior: float
) -> None:
    """Write the table `results` (rec_id, pin, match_weight, match_probability, class, method)
    with one row per record of `records`."""
    con.register("confirmed", _pairs_arrow(list(labels.confirmed.items()), ordered=True))
    con.register("rejected", _pairs_arrow(list(labels.rejected)))
    _anchor(con)
    scored = con.sql(_scored_sql(candidates, prior)).to_arrow_reader(BATCH_ROWS)
    con.register("scored", _assign_scored(scored))
    con.execute(
        "CREATE OR REPLACE TABLE results AS "
        "SELECT r.unique_id AS rec_id, a.pin, a.match_weight, a.match_probability, "
        f"coalesce(a.class, '{UNLINKED}') AS class, a.method "
        "FROM records r LEFT JOIN ("
        f"  SELECT rec_id, pin, NULL::DOUBLE, 1.0::DOUBLE, '{LINKED}', method FROM anchored"
        "  UNION ALL SELECT *, 'probabilistic' FROM scored"
        ") a (rec_id, pin, match_weight, match_probability, class, method) "
        "ON a.rec_id = r.unique_id"
    )
    for table in ("scored", "confirmed", "rejected"):
        con.unregister(table)


def _pairs_arrow(pairs: list[tuple[str, str]], *, ordered: bool = False) -> pa.Table:
    """(record, PIN) pairs as a table; `ordered` adds each pair's position as `ord`."""
    table = pa.table(
        {
            "rec_id": pa.array([rec for rec, _ in pairs], pa.string()),
            "pin": pa.array([pin for _, pin in pairs], pa.string()),
        }
    )
    return table.append_column("ord", pa.array(range(len(pairs)), pa.int64())) if ordered else table


def _anchor(con: duckdb.DuckDBPyConnection) -> None:
    """The table `anchored` (rec_id, pin, method): the clerical decisions (a citizen confirmed
    for two records goes to the first) and the deterministic links they leave, one-to-one."""
    con.execute(
        """
CREATE OR REPLACE TABLE anchored AS
WITH clerical AS (
  SELECT c.rec_id, c.pin, 'clerical' AS method
  FROM confirmed c SEMI JOIN registry g ON g.unique_id = c.pin
  QUALIFY row_number() OVER (PARTITION BY c.pin ORDER BY c.ord) = 1
)
SELECT * FROM clerical
UNION ALL
SELECT rec_id, pin, method FROM deterministic
WHERE rec_id NOT IN (SELECT rec_id FROM clerical) AND pin NOT IN (SELECT pin FROM clerical)
"""
    )


def _scored_sql(candidates: str, prior: float) -> str:
    """The scored pairs strong enough to review, strongest first, of records not anchored, each
    with its rival: the best other pair of its record or of its citizen (rejected pairs are no
    one's rival), and whether its citizen is anchored to another record."""
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW"
    return f"""
WITH pairs AS (
  SELECT c.rec_id, c.pin, c.match_weight - {prior!r} AS evidence, c.match_weight,
    c.match_probability
  FROM {candidates} c ANTI JOIN rejected x ON x.rec_id = c.rec_id AND x.pin = c.pin
), rivalled AS (
  SELECT *, greatest(
    max(evidence) OVER (PARTITION BY rec_id {frame}),
    max(evidence) OVER (PARTITION BY pin {frame})
  ) AS rival
  FROM pairs
)
SELECT rec_id, pin, evidence, match_weight, match_probability, rival,
  pin IN (SELECT pin FROM anchored) AS pin_taken
FROM rivalled
WHERE evidence >= {REVIEW_EVIDENCE!r} AND rec_id NOT IN (SELECT rec_id FROM anchored)
ORDER BY evidence DESC, rec_id, pin
"""


_ANSWER = pa.schema(
    [
        ("rec_id", pa.string()),
        ("pin", pa.string()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
        ("class", pa.string()),
    ]
)


class _Answers:
    """The scored answers, as columns: a record answered once, a citizen linked once."""

    def __init__(self) -> None:
        self.columns: dict[str, list[object]] = {name: [] for name in _ANSWER.names}
        self.records: set[str] = set()
        self.linked_pins: set[str] = set()

    def take(self, rec: str, pin: str, weight: float, probability: float, cls: str) -> None:
        for name, value in zip(self.columns, (rec, pin, weight, probability, cls), strict=True):
            self.columns[name].append(value)
        self.records.add(rec)
        if cls == LINKED:
            self.linked_pins.add(pin)

    def arrow(self) -> pa.Table:
        return pa.table(self.columns, schema=_ANSWER)


def _assign_scored(batches: pa.RecordBatchReader) -> pa.Table:
    """Greedy by evidence, streamed strongest first; answers keep Splink's match weight. A pair
    is linked when strong and clearly ahead of its rival; a record whose best citizen is
    already linked to another record goes to review with that citizen, if nothing else
    answers it."""
    done = _Answers()
    blocked: dict[str, tuple[str, float, float]] = {}
    for batch in batches:
        for rec, pin, evidence, weight, probability, rival, pin_taken in zip(
            *(column.to_pylist() for column in batch.columns), strict=True
        ):
            if rec in done.records:
                continue
            if pin_taken or pin in done.linked_pins:
                blocked.setdefault(rec, (pin, weight, probability))
                continue
            clear = rival is None or evidence - rival >= MARGIN
            cls = LINKED if evidence >= LINK_EVIDENCE and clear else REVIEW
            done.take(rec, pin, weight, probability, cls)
    for rec, (pin, weight, probability) in blocked.items():
        if rec not in done.records:
            done.take(rec, pin, weight, probability, REVIEW)
    return done.arrow()
