"""From candidate pairs to one answer per record: linked, review or unlinked.

Clerical decisions come first, then the deterministic passes, then the scored pairs, greedily by
weight so that a record links to at most one citizen and a citizen to at most one record. A
scored pair is linked only when it is strong and clearly ahead of every rival for either side;
a strong pair that is not clearly ahead goes to clerical review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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


@dataclass
class _Best:
    """The two highest weights seen for one record or one citizen."""

    top: list[float] = field(default_factory=list)

    def add(self, weight: float) -> None:
        self.top = sorted([*self.top, weight], reverse=True)[:2]

    def rival(self, weight: float) -> float | None:
        """The best weight other than this one."""
        if not self.top:
            return None
        if weight >= self.top[0]:
            return self.top[1] if len(self.top) > 1 else None
        return self.top[0]


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


@dataclass(frozen=True)
class _Answer:
    pin: str
    weight: float | None
    probability: float | None
    cls: str
    method: str


class _Assignment:
    """Answers so far; a citizen once linked is not linked again."""

    def __init__(self) -> None:
        self.answers: dict[str, _Answer] = {}
        self.linked_pins: set[str] = set()

    def take(self, rec: str, answer: _Answer) -> None:
        self.answers[rec] = answer
        if answer.cls == LINKED:
            self.linked_pins.add(answer.pin)

    def arrow(self) -> pa.Table:
        answers = self.answers.values()
        return pa.table(
            {
                "rec_id": list(self.answers),
                "pin": [a.pin for a in answers],
                "match_weight": pa.array([a.weight for a in answers], pa.float64()),
                "match_probability": pa.array([a.probability for a in answers], pa.float64()),
                "class": [a.cls for a in answers],
                "method": [a.method for a in answers],
            }
        )


def prior_weight(probability: float) -> float:
    """The match weight of the prior: what a pair weighs before any field is compared."""
    return math.log2(probability / (1 - probability))


def resolve(
    con: duckdb.DuckDBPyConnection, candidates: str, labels: Labels, *, prior: float
) -> None:
    """Write the table `results` (rec_id, pin, match_weight, match_probability, class, method)
    with one row per record of `records`."""
    done = _Assignment()
    known = {row[0] for row in con.execute("SELECT unique_id FROM registry").fetchall()}
    for rec, pin in labels.confirmed.items():
        if pin in known and pin not in done.linked_pins:
            done.take(rec, _Answer(pin, None, 1.0, LINKED, "clerical"))
    for rec, pin, method in con.execute("SELECT rec_id, pin, method FROM deterministic").fetchall():
        if rec not in done.answers and pin not in done.linked_pins:
            done.take(rec, _Answer(pin, None, 1.0, LINKED, method))
    rows = con.execute(
        f"SELECT rec_id, pin, match_weight, match_probability FROM {candidates} "
        "ORDER BY match_weight DESC, rec_id, pin"
    ).fetchall()
    rows = [(rec, pin, weight - prior, p) for rec, pin, weight, p in rows]
    _assign_scored([row for row in rows if (row[0], row[1]) not in labels.rejected], done, prior)
    con.register("results_arrow", done.arrow())
    con.execute(
        "CREATE OR REPLACE TABLE results AS "
        "SELECT r.unique_id AS rec_id, a.pin, a.match_weight, a.match_probability, "
        f"coalesce(a.class, '{UNLINKED}') AS class, a.method "
        "FROM records r LEFT JOIN results_arrow a ON a.rec_id = r.unique_id"
    )
    con.unregister("results_arrow")


def _assign_scored(
    rows: list[tuple[str, str, float, float]], done: _Assignment, prior: float
) -> None:
    """Greedy by evidence (rows come strongest first); answers keep Splink's match weight."""
    by_record: dict[str, _Best] = {}
    by_pin: dict[str, _Best] = {}
    for rec, pin, evidence, _ in rows:
        by_record.setdefault(rec, _Best()).add(evidence)
        by_pin.setdefault(pin, _Best()).add(evidence)
    blocked: dict[str, _Answer] = {}  # the best candidate already linked to another record
    for rec, pin, evidence, probability in rows:
        if rec in done.answers or evidence < REVIEW_EVIDENCE:
            continue
        weight = evidence + prior
        if pin in done.linked_pins:
            blocked.setdefault(rec, _Answer(pin, weight, probability, REVIEW, "probabilistic"))
            continue
        rivals = [
            r
            for r in (by_record[rec].rival(evidence), by_pin[pin].rival(evidence))
            if r is not None
        ]
        clear = not rivals or evidence - max(rivals) >= MARGIN
        cls = LINKED if evidence >= LINK_EVIDENCE and clear else REVIEW
        done.take(rec, _Answer(pin, weight, probability, cls, "probabilistic"))
    for rec, answer in blocked.items():
        if rec not in done.answers:
            done.take(rec, answer)
