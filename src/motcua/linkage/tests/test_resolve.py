"""From candidate pairs to one answer per record: clerical decisions, deterministic links, then
scored pairs greedily by evidence, one-to-one, with the margin over rivals."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.linkage.resolve import (
    LINK_EVIDENCE,
    MARGIN,
    REVIEW,
    REVIEW_EVIDENCE,
    Labels,
    resolve,
)

PRIOR = -20.0  # the prior's weight: evidence is match_weight - PRIOR
NO_LABELS = Labels({}, set())
Pair = tuple[str, str, float]  # record, citizen, evidence


def _world(
    records: Iterable[str],
    citizens: Iterable[str],
    pairs: Iterable[Pair],
    deterministic: Iterable[tuple[str, str]] = (),
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE records (unique_id VARCHAR)")
    con.execute("CREATE TABLE registry (unique_id VARCHAR)")
    con.execute("CREATE TABLE deterministic (rec_id VARCHAR, pin VARCHAR, method VARCHAR)")
    con.execute(
        "CREATE TABLE candidates (rec_id VARCHAR, pin VARCHAR, match_weight DOUBLE, "
        "match_probability DOUBLE)"
    )
    _insert(con, "records", [(r,) for r in records])
    _insert(con, "registry", [(c,) for c in citizens])
    _insert(con, "deterministic", [(r, c, "pin") for r, c in deterministic])
    _insert(con, "candidates", [(r, c, e + PRIOR, 0.5) for r, c, e in pairs])
    return con


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608 (constants)


def _answers(
    con: duckdb.DuckDBPyConnection, labels: Labels = NO_LABELS
) -> dict[str, tuple[str | None, str, str | None]]:
    resolve(con, "candidates", labels, prior=PRIOR)
    rows = con.execute("SELECT rec_id, pin, class, method FROM results").fetchall()
    return {rec: (pin, cls, method) for rec, pin, cls, method in rows}


STRONG = LINK_EVIDENCE + MARGIN + 1


def test_a_strong_pair_clearly_ahead_is_linked_and_a_weak_one_is_not() -> None:
    con = _world(["a", "b"], ["1", "2"], [("a", "1", STRONG), ("b", "2", REVIEW_EVIDENCE - 1)])
    assert _answers(con) == {
        "a": ("1", "linked", "probabilistic"),
        "b": (None, "unlinked", None),
    }


def test_a_rival_within_the_margin_leaves_the_choice_to_a_person() -> None:
    pairs = [("a", "1", STRONG), ("a", "2", STRONG - MARGIN + 0.5)]
    assert _answers(_world(["a"], ["1", "2"], pairs))["a"] == ("1", REVIEW, "probabilistic")


def test_a_rival_for_the_same_citizen_also_counts() -> None:
    pairs = [("a", "1", STRONG), ("b", "1", STRONG - 1)]
    answers = _answers(_world(["a", "b"], ["1"], pairs))
    assert answers["a"] == ("1", REVIEW, "probabilistic")
    assert answers["b"] == ("1", REVIEW, "probabilistic")  # "1" was not linked: both reviewed


def test_a_citizen_linked_to_one_record_sends_the_other_to_review() -> None:
    pairs = [("a", "1", STRONG + MARGIN), ("b", "1", STRONG - MARGIN), ("b", "2", 1.0)]
    answers = _answers(_world(["a", "b"], ["1", "2"], pairs))
    assert answers["a"] == ("1", "linked", "probabilistic")
    assert answers["b"] == ("1", REVIEW, "probabilistic")


def test_a_record_whose_best_citizen_is_taken_is_reviewed_with_the_best_free_one() -> None:
    pairs = [
        ("a", "1", STRONG + MARGIN),
        ("b", "1", STRONG - MARGIN),
        ("b", "2", REVIEW_EVIDENCE + 1),
        ("c", "3", STRONG),
        ("c", "4", REVIEW_EVIDENCE),
    ]
    con = _world(["a", "b", "c", "d"], ["1", "2", "3", "4"], pairs, deterministic=[("d", "3")])
    answers = _answers(con)
    assert answers["b"] == ("2", REVIEW, "probabilistic")
    assert answers["c"] == ("4", REVIEW, "probabilistic")  # "3" is linked deterministically


def test_clerical_decisions_come_before_deterministic_and_scored_links() -> None:
    con = _world(
        ["a", "b", "c"],
        ["1", "2", "3"],
        [("c", "3", STRONG), ("c", "2", STRONG - MARGIN + 1)],
        deterministic=[("a", "1"), ("b", "2")],
    )
    labels = Labels(confirmed={"b": "1", "c": "404"}, rejected={("c", "2")})
    answers = _answers(con, labels)
    assert answers["b"] == ("1", "linked", "clerical")
    assert answers["a"] == (None, "unlinked", None)  # its citizen went to b
    # No citizen 404, so c is scored; the rejected pair is no rival, so c links.
    assert answers["c"] == ("3", "linked", "probabilistic")


def test_a_citizen_confirmed_for_two_records_goes_to_the_first() -> None:
    con = _world(["a", "b"], ["1"], [])
    answers = _answers(con, Labels(confirmed={"b": "1", "a": "1"}, rejected=set()))
    assert answers == {"b": ("1", "linked", "clerical"), "a": (None, "unlinked", None)}


RECORDS = [f"r{i}" for i in range(6)]
CITIZENS = [f"{i:012d}" for i in range(6)]


@st.composite
def scored_worlds(draw: st.DrawFn) -> list[Pair]:
    keys = draw(
        st.lists(st.tuples(st.sampled_from(RECORDS), st.sampled_from(CITIZENS)), unique=True)
    )
    evidence = st.one_of(
        st.integers(int(REVIEW_EVIDENCE) - 2, int(STRONG) + 2).map(float),
        st.floats(0, 45, allow_nan=False),
    )
    return [(rec, pin, draw(evidence)) for rec, pin in keys]


@settings(max_examples=150, deadline=None)
@given(scored_worlds())
def test_every_record_gets_one_answer_and_links_are_one_to_one_and_clear(
    pairs: list[Pair],
) -> None:
    answers = _answers(_world(RECORDS, CITIZENS, pairs))
    assert set(answers) == set(RECORDS)
    weight = {(rec, pin): e for rec, pin, e in pairs}
    linked = [(rec, pin) for rec, (pin, cls, _) in answers.items() if cls == "linked" and pin]
    assert len({pin for _, pin in linked}) == len(linked)
    for rec, pin in linked:
        # Every other pair of the record or of the citizen is a rival.
        rivals = [e for r, c, e in pairs if (r == rec) != (c == pin)]
        assert weight[rec, pin] >= LINK_EVIDENCE
        assert all(weight[rec, pin] - e >= MARGIN for e in rivals)
    for rec, (candidate, cls, _) in answers.items():
        if cls == REVIEW:
            assert candidate and weight[rec, candidate] >= REVIEW_EVIDENCE
        strongest = max((e for r, _, e in pairs if r == rec), default=0.0)
        assert (cls == "unlinked") == (strongest < REVIEW_EVIDENCE)
