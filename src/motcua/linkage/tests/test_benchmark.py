"""The linkage benchmark: every record checked against the registry and the corruptions its
truth names; reproducible files; the command and its refusals."""

from __future__ import annotations

import csv
from collections import Counter
from io import StringIO
from pathlib import Path
from random import Random
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from motcua.core.text import fold
from motcua.linkage.benchmark import (
    ACTOR,
    CORRUPTIONS,
    SPELLINGS,
    BenchmarkError,
    benchmark_make,
    has_tone_variant,
    tone_moved,
    typo,
    without_diacritics,
)
from motcua.linkage.dataset import KINDS
from motcua.registry.selectors import LINKAGE_COLUMNS, linkage_extract, registry_stats

loads = pytest.mark.django_db(transaction=True, serialized_rollback=True)
COLUMNS = KINDS["gplx"].columns
REGISTRY, RECORDS = 2000, 500
NAME_CORRUPTIONS = {"typo", "tone_variant", "family_last", "spelling_swap"}


# --- the text corruptions, without a database ---------------------------------------------------


def test_tone_marks_move_between_the_vowels_of_open_oa_oe_uy_syllables() -> None:
    assert tone_moved("Hòa") == "Hoà" and tone_moved("Hoà") == "Hòa"
    assert tone_moved("Thủy") == "Thuỷ" and tone_moved("Khoẻ") == "Khỏe"
    assert [has_tone_variant(w) for w in ("Hòa", "Thúy", "Hoa", "Hoàng", "Quý", "Huy")] == [
        True, True, False, False, False, False,
    ]  # fmt: skip


def test_diacritics_and_d_bar_are_dropped_but_case_is_kept() -> None:
    assert without_diacritics("Đặng Thị Hòa, Ấp 3") == "Dang Thi Hoa, Ap 3"


def test_a_typo_is_always_one_edit_away() -> None:
    rng = Random(1)
    for word in ("Nguyễn", "Thị", "An", "Y", "Hoàng", "Hữu", "Khuê"):
        for _ in range(200):
            changed = typo(word, rng)
            assert _osa(changed, word) == 1 and changed[0].isupper()
            assert fold(changed) != fold(word)  # a typo, not merely a lost accent


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "0", "--records", "10"], "số dương"),
        (["--registry", "100", "--records", "-1"], "số dương"),
        (["--registry", "100", "--records", "200"], "too many records"),
        (["--registry", "100", "--records", "10", "--kind", "passport"], "invalid choice"),
        (["--registry", "100", "--records", "10", "--format", "xlsx"], "invalid choice"),
        (["--registry", "100", "--records", "ten"], "invalid int"),
    ],
)
def test_the_command_refuses_bad_arguments_before_touching_anything(
    args: list[str], message: str, tmp_path: Path
) -> None:
    """No database marker: any query would fail the test."""
    with pytest.raises(CommandError, match=message):
        call_command(
            "linkage", "make-benchmark", *args, "--seed", "1", "--out", str(tmp_path / "out")
        )
    assert not (tmp_path / "out").exists()


def test_unknown_kinds_and_formats_are_refused_by_the_function_too(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="Không có loại dữ liệu"):
        benchmark_make(registry=10, records=5, seed=1, out_dir=tmp_path, kind="passport")
    with pytest.raises(BenchmarkError, match="Định dạng"):
        benchmark_make(registry=10, records=5, seed=1, out_dir=tmp_path, file_format="xlsx")


@pytest.mark.django_db
def test_an_unknown_province_is_refused(tmp_path: Path) -> None:
    for key in ("2025:9999", "pre2025:87", "2025:29365"):  # unknown, old, a ward
        with pytest.raises(BenchmarkError, match="Không có tỉnh"):
            benchmark_make(registry=10, records=5, seed=1, out_dir=tmp_path, province_key=key)


# --- a benchmark against a real registry ----------------------------------------------------


@loads
def test_benchmarks_agree_with_the_registry_and_are_reproducible(tmp_path: Path) -> None:
    files = benchmark_make(registry=REGISTRY, records=RECORDS, seed=7, out_dir=tmp_path / "a")

    assert registry_stats().citizens == REGISTRY  # loaded on demand
    citizens = _registry(tmp_path / "registry.csv")
    records, truth = _read(files.dataset), _read(files.truth)
    assert list(records[0]) == list(COLUMNS.values()) and len(records) == RECORDS
    assert files.dataset.name == "dataset.parquet" and not list(files.dataset.parent.glob(".*"))
    _check_all(records, truth, citizens, files.counts)

    again = benchmark_make(registry=REGISTRY, records=RECORDS, seed=7, out_dir=tmp_path / "b")
    other = benchmark_make(registry=REGISTRY, records=RECORDS, seed=8, out_dir=tmp_path / "c")
    assert again.dataset.read_bytes() == files.dataset.read_bytes()
    assert again.truth.read_bytes() == files.truth.read_bytes()
    assert _read(other.dataset) != records and _read(other.truth) != truth

    # Through the command, as CSV, and large enough for every corruption to show.
    out = StringIO()
    many = ["--records", "1800", "--seed", "9", "--format", "csv", "--out", str(tmp_path / "d")]
    call_command("linkage", "make-benchmark", "--registry", str(REGISTRY), *many, stdout=out)
    dataset = tmp_path / "d" / "dataset.csv"
    assert f"{dataset} (1,800 records from 2,000 citizens)" in out.getvalue()
    with dataset.open(encoding="utf-8", newline="") as text:
        assert next(csv.reader(text)) == list(COLUMNS.values())
    records, truth = _read(dataset), _read(tmp_path / "d" / "truth.parquet")
    assert list(records[0]) == list(COLUMNS.values())
    counts = _check_all(records, truth, citizens, None)
    # A tone variant needs an oa/oe/uy name and a 5% draw: a handful in 1,800 records of a
    # population drawn relative to today, and on some days none (tone_moved is tested above).
    common = [name for name in CORRUPTIONS if name != "tone_variant"]
    assert all(counts[name] > 0 for name in common), counts
    assert registry_stats().citizens == REGISTRY  # nothing loaded twice


def _registry(path: Path) -> dict[str, dict[str, Any]]:
    linkage_extract(actor=ACTOR, path=str(path), purpose="test")
    return {row["pin"]: row for row in _read(path)}


def _read(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        options = pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in (*COLUMNS.values(), *LINKAGE_COLUMNS)},
            strings_can_be_null=True,
        )
        return list(pa_csv.read_csv(path, convert_options=options).to_pylist())
    return list(pq.read_table(path).to_pylist())


def _check_all(
    records: list[dict[str, Any]],
    truth: list[dict[str, Any]],
    citizens: dict[str, dict[str, Any]],
    counts: dict[str, int] | None,
) -> Counter[str]:
    """Every record against its truth and, for citizens, against the registry."""
    ids = [r[COLUMNS["sector_id"]] for r in records]
    assert ids == [t["sector_id"] for t in truth] and len(set(ids)) == len(ids)
    assert all(len(i) == 12 and i.isdigit() and i.startswith("82") for i in ids)
    seen = Counter(c for t in truth for c in (t["corruptions"] or "").split(",") if c)
    outsiders = [r for r, t in zip(records, truth, strict=True) if t["pin"] is None]
    assert len(outsiders) == round(len(records) * 0.08)
    assert not any(r[COLUMNS["pin"]] or r[COLUMNS["cmnd"]] for r in outsiders)
    pins = [t["pin"] for t in truth if t["pin"]]
    assert len(set(pins)) == len(pins) and set(pins) <= citizens.keys()
    with_pin = sum(1 for r in records if r[COLUMNS["pin"]])
    assert 0.25 < with_pin / len(pins) < 0.45
    for record, expected in zip(records, truth, strict=True):
        if expected["pin"]:
            corruptions = set((expected["corruptions"] or "").split(",")) - {""}
            _check_record(record, citizens[expected["pin"]], corruptions)
    if counts is not None:
        assert {k: v for k, v in counts.items() if k in CORRUPTIONS} == {
            name: seen[name] for name in CORRUPTIONS
        }
        assert counts["not_in_registry"] == len(outsiders) and counts["with_pin"] == with_pin
    return seen


def _check_record(record: dict[str, Any], citizen: dict[str, Any], corruptions: set[str]) -> None:
    field = {f: record[c] for f, c in COLUMNS.items()}
    assert field["pin"] in (None, citizen["pin"])
    if field["cmnd"]:
        assert field["cmnd"] == citizen["cmnd"] and field["pin"] is None
    assert field["sex"] == (None if "sex_missing" in corruptions else _SEX[citizen["sex"]])
    _check_name(field["full_name"], citizen["full_name"], corruptions)
    _check_birth_date(field["birth_date"], citizen, corruptions)
    _check_place(field, citizen, corruptions)


_SEX = {"M": "Nam", "F": "Nữ"}


def _check_name(name: str, registered: str, corruptions: set[str]) -> None:
    if "no_diacritics" in corruptions:
        assert name.isascii()
    changes = corruptions & NAME_CORRUPTIONS
    words, registered_words = fold(name).split(), fold(registered).split()
    if not changes:
        assert name == registered or "no_diacritics" in corruptions
        assert words == registered_words
    elif changes == {"typo"}:
        assert _osa(fold(name), fold(registered)) == 1
    elif changes == {"family_last"}:
        assert words == [*registered_words[1:], registered_words[0]]
    elif changes == {"tone_variant"}:
        assert name != registered and words == registered_words
    elif changes == {"spelling_swap"}:
        assert words == [fold(SPELLINGS[registered.split()[0]]), *registered_words[1:]]


def _check_birth_date(written: str, citizen: dict[str, Any], corruptions: set[str]) -> None:
    year, month, day = citizen["birth_date"].split("-")
    precision = citizen["birth_date_precision"]
    if "year_only" in corruptions:
        assert written == year and precision != "year"
    elif "month_year" in corruptions:
        assert written == f"{month}/{year}" and precision == "day"
    elif "swapped_date" in corruptions:
        assert written == f"{month}/{day}/{year}" and int(day) <= 12 and day != month
    elif "year_typo" in corruptions:
        *rest, typed = written.split("/")
        assert abs(int(typed) - int(year)) == 1
        assert rest == {"day": [day, month], "month": [month], "year": []}[precision]
    else:
        assert written == {
            "day": f"{day}/{month}/{year}", "month": f"{month}/{year}", "year": year
        }[precision]  # fmt: skip


def _check_place(field: dict[str, Any], citizen: dict[str, Any], corruptions: set[str]) -> None:
    ward, address = field["ward"], field["address"]
    if citizen["ward"] is None:  # the dead have no residence
        assert ward is None and address is None and not {"moved", "old_ward"} & corruptions
        return
    if "moved" in corruptions:
        assert ward.split(":")[1] != citizen["ward"].split(":")[1]
        assert fold(address) != fold(citizen["address"])
    else:
        assert fold(address) == fold(citizen["address"])
        assert ward.split(":")[1] == citizen["ward"].split(":")[1]
    assert ward.startswith("pre2025:" if "old_ward" in corruptions else "2025:")
    assert ("no_diacritics" not in corruptions) or address.isascii()


def _osa(a: str, b: str) -> int:
    """Edit distance counting a transposition of neighbours as one edit."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]
