"""The linkage engine end to end on a small registry with known truth: the classes it reaches,
the deterministic passes, clerical labels fed back, bad input refused before any work, and a
crashed run resumed without redoing finished chunks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from django.core.management import CommandError, call_command

from motcua.core.actors import Actor
from motcua.core.models import AccessLog, AuditEntry
from motcua.core.text import fold
from motcua.linkage import pipeline
from motcua.linkage.benchmark import benchmark_make
from motcua.linkage.pipeline import DatasetError, LinkSpec, Progress, dataset_check, link
from motcua.registry.selectors import VIEW_PERMISSION, linkage_extract
from motcua.registry.services import population_load

# Loading citizens commits batch by batch, so the tests that link need a transactional database;
# checking a dataset needs no database at all.
linking = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REGISTRY, RECORDS, SEED, PROVINCE = 3000, 800, 5, "2025:82"
_cache: dict[str, Path] = {}
_made: dict[str, str] = {}  # PINs of the hand-made records


@pytest.fixture
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A registry extract, a generated dataset with four hand-made records added, and the
    truth. Built once (the files outlive the test database's rows)."""
    if not _cache:
        base = tmp_path_factory.mktemp("linkage")
        files = benchmark_make(
            registry=REGISTRY, records=RECORDS, seed=SEED, out_dir=base, province_key=PROVINCE
        )
        registry_csv = base / "registry.csv"
        actor = Actor(kind="system", ref="test", permissions=frozenset({VIEW_PERMISSION}))
        linkage_extract(actor=actor, path=str(registry_csv), purpose="test")
        _cache.update(
            registry=registry_csv,
            dataset=_with_made_records(files.dataset, registry_csv, base),
            truth=files.truth,
        )
    yield dict(_cache)


def _citizens(registry_csv: Path) -> list[dict[str, str]]:
    with registry_csv.open(encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["birth_date_precision"] == "day"]


def _with_made_records(dataset: Path, registry_csv: Path, base: Path) -> Path:
    """MADE-PIN carries a citizen's PIN; MADE-CMND an old ID number with the whole date;
    MADE-FUZZY a name in capitals without accents and the day and month swapped; MADE-NOBODY
    a person the registry does not know."""
    people = _citizens(registry_csv)
    by_pin, with_cmnd = people[10], next(p for p in people if p["cmnd"])
    fuzzy = next(
        p
        for p in people[20:]
        if int(p["birth_date"][8:]) <= 12 and p["birth_date"][5:7] != p["birth_date"][8:]
    )
    _made.update(pin=by_pin["pin"], cmnd=with_cmnd["pin"], fuzzy=fuzzy["pin"])
    made = [
        (
            "MADE-PIN",
            by_pin["full_name"],
            _dmy(by_pin["birth_date"]),
            "",
            by_pin["pin"],
            by_pin["ward"],
        ),
        (
            "MADE-CMND",
            with_cmnd["full_name"],
            _dmy(with_cmnd["birth_date"]),
            with_cmnd["cmnd"],
            "",
            "",
        ),
        (
            "MADE-FUZZY",
            _unaccented_capitals(fuzzy["full_name"]),
            _swapped(fuzzy["birth_date"]),
            "",
            "",
            fuzzy["ward"],
        ),
        ("MADE-NOBODY", "Quách Thị Zêu", "01/01/1901", "", "", ""),
    ]
    out = base / "dataset.csv"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE d AS SELECT so_gplx, ho_ten, ngay_sinh, gioi_tinh, so_cmnd, so_dinh_danh, "
        "ma_xa, dia_chi FROM read_parquet(?)",
        [str(dataset)],
    )
    con.executemany("INSERT INTO d VALUES (?, ?, ?, NULL, ?, ?, ?, NULL)", made)
    con.execute(f"COPY d TO '{out}' (FORMAT csv, HEADER true)")
    return out


def _dmy(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _swapped(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{month}/{day}/{year}"


def _unaccented_capitals(name: str) -> str:
    return fold(name).upper()


def _results(out: Path) -> dict[str, tuple[str | None, str | None, str, str | None]]:
    rows = duckdb.execute(
        "SELECT so_gplx, linked_pin, candidate_pin, class, method FROM read_parquet(?)",
        [str(out / "links.parquet")],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


@linking
def test_a_small_linkage_reaches_the_expected_classes(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    spec = LinkSpec(dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "out")
    result = link(spec, registry_csv=inputs["registry"])

    answers = _results(spec.out_dir)
    assert len(answers) == result.records == RECORDS + 4
    assert answers["MADE-PIN"] == (_made["pin"], None, "linked", "pin")
    assert answers["MADE-CMND"] == (_made["cmnd"], None, "linked", "cmnd_dob")
    assert answers["MADE-FUZZY"][0] == _made["fuzzy"]
    assert answers["MADE-FUZZY"][2:] == ("linked", "probabilistic")
    assert answers["MADE-NOBODY"][2] == "unlinked"
    truth = dict(
        duckdb.execute(
            "SELECT sector_id, pin FROM read_parquet(?)", [str(inputs["truth"])]
        ).fetchall()
    )
    linked = {
        rec: pin for rec, (pin, _, cls, _) in answers.items() if cls == "linked" and rec in truth
    }
    correct = sum(truth[rec] == pin for rec, pin in linked.items())
    assert correct / len(linked) >= 0.995
    assert correct / sum(pin is not None for pin in truth.values()) >= 0.95
    # One-to-one: no citizen is linked twice.
    assert len(set(linked.values())) == len(linked)
    assert result.linked + result.review + result.unlinked == result.records
    report = result.report.read_text(encoding="utf-8")
    assert "<svg" in report and "Đóng góp của từng trường" in report and "<script" not in report
    pairs = duckdb.execute(
        "SELECT count(*), count(contributions) FROM read_parquet(?)",
        [str(result.review_pairs)],
    ).fetchall()[0]
    assert pairs == (result.review, result.review)


@linking
def test_clerical_labels_are_fed_back(inputs: dict[str, Path], tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        f"sector_id,pin,is_match\nMADE-NOBODY,{_made['pin']},false\nMADE-FUZZY,{_made['fuzzy']},false\n"
        f"MADE-NOBODY,{_made['fuzzy']},true\n",
        encoding="utf-8",
    )
    spec = LinkSpec(dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "out", labels=labels)
    link(spec, registry_csv=inputs["registry"])

    answers = _results(spec.out_dir)
    assert answers["MADE-NOBODY"] == (_made["fuzzy"], None, "linked", "clerical")
    assert answers["MADE-FUZZY"][0] != _made["fuzzy"]  # rejected, and the citizen is taken


@linking
def test_an_interrupted_run_resumes_without_redoing_finished_chunks(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_RECORDS", 150)
    spec = LinkSpec(dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "out")

    def crash_in_third_chunk(progress: Progress) -> None:
        if progress.stage == "predict" and progress.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        link(spec, registry_csv=inputs["registry"], progress=crash_in_third_chunk)
    chunks = sorted((spec.out_dir / "chunks").glob("*.parquet"))
    assert len(chunks) == 2
    finished = {path: path.stat().st_mtime_ns for path in [*chunks, spec.out_dir / "model.json"]}
    assert not (spec.out_dir / "links.parquet").exists()

    stages: list[str] = []
    result = link(spec, registry_csv=inputs["registry"], progress=lambda p: stages.append(p.stage))

    assert {path: path.stat().st_mtime_ns for path in finished} == finished
    assert len(list((spec.out_dir / "chunks").glob("*.parquet"))) > 2
    uninterrupted = LinkSpec(dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "again")
    link(uninterrupted, registry_csv=inputs["registry"])
    assert _results(spec.out_dir) == _results(uninterrupted.out_dir)
    assert result.records == RECORDS + 4


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


HEADER = ["so_gplx", "ho_ten", "ngay_sinh", "gioi_tinh", "so_cmnd"]


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        (
            [["so_gplx", "ngay_sinh"], ["1", "01/01/1990"]],
            "full_name",
            "thiếu cột 'ho_ten'",
        ),
        (
            [HEADER, ["1", "An", "1990/31/12", "Nam", ""]],
            "birth_date",
            "dòng 1: '1990/31/12'",
        ),
        ([HEADER, ["1", "An", "31/02/1990", "Nam", ""]], "birth_date", "31/02/1990"),
        ([HEADER, ["1", "An", "1990", "X", ""]], "sex", "Nam/Nữ"),
        ([HEADER, ["1", "An", "1990", "Nữ", "12345"]], "cmnd", "9 hoặc 12"),
        (
            [HEADER, ["1", "An", "1990", "Nữ", ""], ["1", "Ba", "1991", "Nam", ""]],
            "sector_id",
            "1 trùng",
        ),
    ],
)
def test_bad_input_is_refused_per_field_before_any_work(
    tmp_path: Path, rows: list[list[str]], field: str, words: str
) -> None:
    dataset = _write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DatasetError) as refused:
        dataset_check(LinkSpec(dataset=dataset, kind="gplx", out_dir=tmp_path / "out"))
    assert words in refused.value.errors[field]


@pytest.mark.django_db
def test_the_command_refuses_bad_input_with_a_clear_message_and_writes_nothing(
    tmp_path: Path,
) -> None:
    unreadable = tmp_path / "licences.parquet"
    unreadable.write_bytes(b"PAR1 this is not parquet")
    audits = AuditEntry.objects.count()
    for arguments in (
        ["--dataset", str(unreadable)],
        ["--dataset", str(tmp_path / "missing.csv")],
        [
            "--dataset",
            str(_write_csv(tmp_path / "x.csv", [HEADER, ["1", "An", "2/30/1990", "Nam", ""]])),
        ],
        ["--dataset", str(tmp_path / "x.csv"), "--column", "cmnd=SO_CMND_CU"],
        ["--dataset", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "no-labels.csv")],
    ):
        with pytest.raises(CommandError, match="Tệp không dùng được"):
            call_command("link", *arguments, "--kind", "gplx", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "registry.csv").exists()
    assert AuditEntry.objects.count() == audits


@linking
def test_the_command_links_audits_and_tells_each_citizen(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    population_load(REGISTRY, province_key=PROVINCE, seed=SEED)  # the citizens of `inputs`
    out = tmp_path / "cli"
    call_command(
        "link",
        "--dataset",
        str(inputs["dataset"]),
        "--kind",
        "gplx",
        "--out",
        str(out),
        "--format",
        "csv",
    )

    assert (out / "links.csv").exists() and (out / "report.html").exists()
    entry = AuditEntry.objects.get(action="linkage.run")
    assert entry.after is not None
    assert entry.after["records"] == RECORDS + 4
    assert AccessLog.objects.filter(
        subject_pin=_made["pin"], purpose__contains="làm sạch dữ liệu chuyên ngành"
    ).exists()


@linking
def test_pairs_scored_on_spark_give_the_same_answers(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    on_duckdb = LinkSpec(dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "duckdb")
    on_spark = LinkSpec(
        dataset=inputs["dataset"], kind="gplx", out_dir=tmp_path / "spark", backend="spark"
    )
    link(on_duckdb, registry_csv=inputs["registry"])
    link(on_spark, registry_csv=inputs["registry"])

    assert _results(on_spark.out_dir) == _results(on_duckdb.out_dir)


@linking
def test_attack_formula_in_a_sector_record_is_escaped_in_the_csv_results(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """A sector record whose text a spreadsheet would run (=, +, -, @, tab, CR first) comes out
    of the CSV results as text, with a leading apostrophe."""
    dataset = tmp_path / "formula.csv"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE d AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
        [str(inputs["dataset"])],
    )
    con.execute(
        "INSERT INTO d (so_gplx, ho_ten, ngay_sinh, dia_chi) VALUES "
        "('MADE-FORMULA', '=HYPERLINK(\"http://evil.example\",\"xem\")', '01/01/1990', "
        "'+84 cmd|calc'), ('MADE-AT', '@SUM(A1)', '02/02/1990', '-1+1')"
    )
    con.execute(f"COPY d TO '{dataset}' (FORMAT csv, HEADER true)")
    spec = LinkSpec(dataset=dataset, kind="gplx", out_dir=tmp_path / "out", output_format="csv")
    link(spec, registry_csv=inputs["registry"])

    with (spec.out_dir / "links.csv").open(encoding="utf-8") as f:
        rows = {row["so_gplx"]: row for row in csv.DictReader(f)}
    assert rows["MADE-FORMULA"]["ho_ten"] == '\'=HYPERLINK("http://evil.example","xem")'
    assert rows["MADE-FORMULA"]["dia_chi"] == "'+84 cmd|calc"
    assert (rows["MADE-AT"]["ho_ten"], rows["MADE-AT"]["dia_chi"]) == ("'@SUM(A1)", "'-1+1")
    assert rows["MADE-PIN"]["linked_pin"] == _made["pin"]  # the answers are untouched
    sector_columns = ("so_gplx", "ho_ten", "ngay_sinh", "so_cmnd", "so_dinh_danh", "dia_chi")
    assert not any(
        row[c].startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in rows.values()
        for c in sector_columns
        if row[c]
    )
