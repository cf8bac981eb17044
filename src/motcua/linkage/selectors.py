"""Reads of linkage, as plain data: the jobs, one job with its progress and files, the review
queue of a job, and one pair side by side. Opening a pair shows an official a citizen's registry
facts: it goes into that citizen's access log."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.errors import NotFound, PermissionDenied
from motcua.linkage.dataset import KINDS  # re-exported: the dataset kinds, with their columns
from motcua.linkage.export import parquet_as_csv
from motcua.linkage.models import Decision, LinkageJob, ReviewPair, Status
from motcua.linkage.report import CLASS_LABELS, COMPARISON_LABELS, METHOD_LABELS
from motcua.linkage.services import NO_JOB, REVIEW_PERMISSION, RUN_PERMISSION, agencies_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


STAGES: dict[str, StrOrPromise] = {
    "registry": gettext_lazy("Đọc CSDL dân cư"),
    "features": gettext_lazy("Chuẩn hoá dữ liệu"),
    "deterministic": gettext_lazy("Khớp theo số định danh, CMND"),
    "train": gettext_lazy("Huấn luyện mô hình"),
    "predict": gettext_lazy("Chấm điểm các cặp"),
    "resolve": gettext_lazy("Chọn kết quả"),
    "report": gettext_lazy("Lập báo cáo"),
}
# The facts a pair compares, in the order the page shows them.
PAIR_FIELDS: tuple[tuple[str, StrOrPromise], ...] = (
    ("full_name", gettext_lazy("Họ và tên")),
    ("birth_date", gettext_lazy("Ngày sinh")),
    ("sex", gettext_lazy("Giới tính")),
    ("cmnd", gettext_lazy("Số CMND")),
    ("ward", gettext_lazy("Xã, phường")),
    ("address", gettext_lazy("Địa chỉ")),
)
# Which of the engine's comparisons weigh on each fact shown (their sum is shown beside it).
CONTRIBUTION_FIELDS: dict[str, tuple[str, ...]] = {
    "full_name": ("family", "middle", "given", "full_name", "name"),
    "birth_date": ("dob", "birth_date"),
    "sex": ("sex",),
    "cmnd": ("cmnd",),
    "ward": ("place", "ward"),
    "address": ("address",),
}
ACCESS_DATA = "registry.linkage_candidate"
DOWNLOAD_DATA = gettext_lazy("kết quả liên kết")


def _may_see(actor: Actor) -> None:
    if not (actor.can(RUN_PERMISSION) or actor.can(REVIEW_PERMISSION)):
        raise PermissionDenied(
            _("Không có quyền: %(RUN_PERMISSION)s") % {"RUN_PERMISSION": RUN_PERMISSION}
        )


def _jobs_of(actor: Actor) -> QuerySet[LinkageJob]:
    """The jobs of the official's agencies: another agency's jobs do not exist for them."""
    return LinkageJob.objects.filter(agency_id__in=agencies_of(actor))


def _kind_label(kind: str) -> str:
    return str(KINDS[kind].label) if kind in KINDS else kind


def _percent(done: int, total: int) -> int:
    return min(100, math.floor(100 * done / total)) if total > 0 else 0


def linkage_kinds() -> list[tuple[str, str]]:
    """The kinds of sector dataset linkage understands, as (key, label)."""
    return [(key, str(kind.label)) for key, kind in KINDS.items()]


# --- jobs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    kind_label: str
    original_name: str
    rows: int
    status: str
    status_label: str
    stage: str
    stage_label: str
    percent: int
    linked: int
    review: int
    unlinked: int
    pending: int
    created_by: str
    created: datetime
    finished: datetime | None


_ROW_FIELDS = (
    "id",
    "kind",
    "original_name",
    "rows",
    "status",
    "stage",
    "done",
    "total",
    "linked",
    "review",
    "unlinked",
    "created_by",
    "created",
    "finished",
)


def _row(v: dict[str, Any]) -> JobRow:
    return JobRow(
        id=v["id"],
        kind=v["kind"],
        kind_label=_kind_label(v["kind"]),
        original_name=v["original_name"],
        rows=v["rows"],
        status=v["status"],
        status_label=str(Status(v["status"]).label),
        stage=v["stage"],
        stage_label=str(STAGES.get(v["stage"], v["stage"])),
        percent=_percent(v["done"], v["total"]),
        linked=v["linked"],
        review=v["review"],
        unlinked=v["unlinked"],
        pending=v["pending"],
        created_by=v["created_by"],
        created=v["created"],
        finished=v["finished"],
    )


def _pending() -> Count:
    return Count("pairs", filter=Q(pairs__decision=Decision.PENDING))


def linkage_jobs(*, actor: Actor, limit: int = 100) -> list[JobRow]:
    """The newest jobs of the official's agencies first, with how many of their pairs wait for
    a decision."""
    _may_see(actor)
    values = (
        _jobs_of(actor)
        .order_by("-created", "-id")
        .annotate(pending=_pending())
        .values(*_ROW_FIELDS, "pending")[:limit]
    )
    return [_row(v) for v in values]


@dataclass(frozen=True)
class JobDetail:
    row: JobRow
    records: int
    by_method: dict[str, int]
    error: str
    columns: dict[str, str]
    dataset_size: int
    sha256: str
    started: datetime | None
    wall_s: float | None
    pairs: int
    has_report: bool
    has_output: bool
    may_run: bool
    may_review: bool

    @property
    def running(self) -> bool:
        return self.row.status in (Status.QUEUED, Status.RUNNING)


def linkage_job_get(*, actor: Actor, job_id: int) -> JobDetail:
    _may_see(actor)
    job = (
        _jobs_of(actor)
        .filter(pk=job_id)
        .annotate(pending=_pending(), pair_count=Count("pairs"))
        .values(
            *_ROW_FIELDS,
            "pending",
            "pair_count",
            "records",
            "by_method",
            "error",
            "columns",
            "dataset_size",
            "sha256",
            "started",
            "wall_s",
            "output",
            "report",
            "out_dir",
        )
        .first()
    )
    if job is None:
        raise NotFound(NO_JOB)
    done = job["status"] == Status.DONE
    return JobDetail(
        row=_row(job),
        records=job["records"],
        by_method=dict(job["by_method"] or {}),
        error=job["error"],
        columns=dict(job["columns"] or {}),
        dataset_size=job["dataset_size"],
        sha256=job["sha256"],
        started=job["started"],
        wall_s=job["wall_s"],
        pairs=job["pair_count"],
        has_report=done and _inside(job["report"], job["out_dir"]) is not None,
        has_output=done and _inside(job["output"], job["out_dir"]) is not None,
        may_run=actor.can(RUN_PERMISSION),
        may_review=actor.can(REVIEW_PERMISSION),
    )


@dataclass(frozen=True)
class JobProgress:
    id: int
    status: str
    status_label: str
    stage: str
    stage_label: str
    done: int
    total: int
    percent: int
    error: str

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED)


def linkage_job_progress(*, actor: Actor, job_id: int) -> JobProgress:
    """The few columns a page polls every few seconds while the job runs."""
    _may_see(actor)
    v = (
        _jobs_of(actor)
        .filter(pk=job_id)
        .values("id", "status", "stage", "done", "total", "error")
        .first()
    )
    if v is None:
        raise NotFound(NO_JOB)
    return JobProgress(
        id=v["id"],
        status=v["status"],
        status_label=str(Status(v["status"]).label),
        stage=v["stage"],
        stage_label=str(STAGES.get(v["stage"], v["stage"])),
        done=v["done"],
        total=v["total"],
        percent=100 if v["status"] == Status.DONE else _percent(v["done"], v["total"]),
        error=v["error"],
    )


# --- the job's files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobFile:
    path: Path
    download_name: str
    content_type: str


def _inside(name: str, out_dir: str) -> Path | None:
    """The engine's file if it exists inside the job's folder (never anywhere else)."""
    if not name or not out_dir:
        return None
    path = Path(name).resolve()
    return path if path.is_file() and path.is_relative_to(Path(out_dir).resolve()) else None


def linkage_job_file(*, actor: Actor, job_id: int, which: Literal["report", "output"]) -> JobFile:
    """The job's HTML report (for anyone who sees jobs) or its per-record results (for those
    who run linkage: it links every record to a PIN). Handing out the results is a read of each
    citizen they link a record to, or propose for one: one access-log row for each."""
    _may_see(actor)
    if which == "output":
        actor.require(RUN_PERMISSION)
    job = (
        _jobs_of(actor)
        .filter(pk=job_id, status=Status.DONE)
        .values("kind", "out_dir", "report", "output")
        .first()
    )
    path = _inside(job[which], job["out_dir"]) if job else None
    if job is None or path is None:
        raise NotFound(_("Chưa có tệp này"))
    if which == "report":
        return JobFile(path, f"lien-ket-{job['kind']}-{job_id}.html", "text/html; charset=utf-8")
    with transaction.atomic():  # the rows go in batches, all or none
        access_log_record(
            actor=actor,
            subject_pins=_pins_in(path),
            data=f"{DOWNLOAD_DATA}: {_kind_label(job['kind'])}",
            purpose=(_("Tải kết quả liên kết dữ liệu, lượt %(job_id)s") % {"job_id": job_id}),
        )
    content_type = "text/csv" if path.suffix == ".csv" else "application/vnd.apache.parquet"
    return JobFile(path, f"lien-ket-{job['kind']}-{job_id}{path.suffix}", content_type)


def _pins_in(path: Path) -> list[str]:
    """The citizens a results file names: the linked PIN or the candidate of each record."""
    import duckdb

    read = (
        "read_csv(?, header = true, all_varchar = true)"
        if path.suffix == ".csv"
        else "read_parquet(?)"
    )
    rows = duckdb.execute(  # only the reader, one of two constants, goes into the text
        f"SELECT DISTINCT CAST(p AS VARCHAR) FROM (SELECT linked_pin AS p FROM {read} "  # noqa: S608
        f"UNION ALL SELECT candidate_pin FROM {read}) WHERE p IS NOT NULL",
        [str(path), str(path)],
    ).fetchall()
    return [row[0] for row in rows]


def linkage_results_csv(found: JobFile) -> Iterator[bytes]:
    """The per-record results as CSV for a spreadsheet (every formula-like cell made text), from
    a file that linkage_job_file handed out (and logged)."""
    if found.path.suffix == ".csv":  # the engine wrote it safe already
        with open(found.path, "rb") as source:
            yield from iter(lambda: source.read(2**20), b"")
        return
    yield from parquet_as_csv(found.path)


# --- the review queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PairRow:
    id: int
    sector_id: str
    record_name: str
    record_birth_date: str
    probability: float
    match_weight: float
    decision: str
    decision_label: str
    decided_by: str


@dataclass(frozen=True)
class ReviewPage:
    job_id: int
    kind_label: str
    rows: list[PairRow]
    total: int
    pending: int
    page: int
    pages: int
    decision: str


def review_queue(
    *, actor: Actor, job_id: int, decision: str = "", page: int = 1, page_size: int = 50
) -> ReviewPage:
    """A job's pairs, pending first and most likely first. Shows only the sector's side: the
    registry's side is read pair by pair (and logged)."""
    actor.require(REVIEW_PERMISSION)
    job = _jobs_of(actor).filter(pk=job_id).values("kind").first()
    if job is None:
        raise NotFound(NO_JOB)
    pairs = ReviewPair.objects.filter(job_id=job_id)
    counts = pairs.aggregate(
        total=Count("id"), pending=Count("id", filter=Q(decision=Decision.PENDING))
    )
    if decision in Decision.values:
        pairs = pairs.filter(decision=decision)
    else:
        decision = ""
    total = counts["total"] if not decision else pairs.count()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    values = (
        pairs.annotate(
            waiting=Case(
                When(decision=Decision.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-probability", "id")
        .values(
            "id",
            "sector_id",
            "record",
            "probability",
            "match_weight",
            "decision",
            "decided_by",
        )[(page - 1) * page_size : page * page_size]
    )
    rows = [
        PairRow(
            id=v["id"],
            sector_id=v["sector_id"],
            record_name=str((v["record"] or {}).get("full_name") or ""),
            record_birth_date=str((v["record"] or {}).get("birth_date") or ""),
            probability=v["probability"],
            match_weight=v["match_weight"],
            decision=v["decision"],
            decision_label=str(Decision(v["decision"]).label),
            decided_by=v["decided_by"],
        )
        for v in values
    ]
    return ReviewPage(
        job_id=job_id,
        kind_label=_kind_label(job["kind"]),
        rows=rows,
        total=total,
        pending=counts["pending"],
        page=page,
        pages=pages,
        decision=decision,
    )


def review_next_pending(*, actor: Actor, job_id: int) -> int | None:
    """The pair to look at next: the most likely one still pending."""
    actor.require(REVIEW_PERMISSION)
    return (
        ReviewPair.objects.filter(
            job_id=job_id, job__agency_id__in=agencies_of(actor), decision=Decision.PENDING
        )
        .order_by("-probability", "id")
        .values_list("id", flat=True)
        .first()
    )


# --- one pair -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: str
    record: str
    citizen: str
    contribution: float | None
    same: bool


@dataclass(frozen=True)
class PairDetail:
    id: int
    job_id: int
    kind: str
    kind_label: str
    sector_id: str
    pin: str
    match_weight: float
    probability: float
    fields: list[FieldRow]
    # Each of the engine's comparisons: (name, label, match weight or None if not compared).
    contributions: list[tuple[str, str, float | None]]
    decision: str
    decision_label: str
    decided_by: str
    decided_at: datetime | None
    note: str
    version: int

    @property
    def pending(self) -> bool:
        return self.decision == Decision.PENDING


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def review_pair_get(*, actor: Actor, pair_id: int) -> PairDetail:
    """The sector's record beside the registry's facts of the candidate citizen, with each
    fact's share of the match weight. The citizen's access log records the read."""
    actor.require(REVIEW_PERMISSION)
    pair = (
        ReviewPair.objects.select_related("job")
        .filter(pk=pair_id, job__agency_id__in=agencies_of(actor))
        .first()
    )
    if pair is None:
        raise NotFound(_("Không có cặp bản ghi này"))
    contributions = {str(k): _number(v) for k, v in (pair.contributions or {}).items()}
    fields = []
    for field, label in PAIR_FIELDS:
        shares = [
            share
            for name in CONTRIBUTION_FIELDS[field]
            if (share := contributions.get(name)) is not None
        ]
        record, citizen = _text(pair.record.get(field)), _text(pair.citizen.get(field))
        fields.append(
            FieldRow(
                field=field,
                label=str(label),
                record=record,
                citizen=citizen,
                contribution=round(sum(shares), 2) if shares else None,
                same=bool(record) and record.casefold() == citizen.casefold(),
            )
        )
    table = [
        (name, str(COMPARISON_LABELS.get(name, name)), None if value is None else round(value, 2))
        for name, value in contributions.items()
    ]
    access_log_record(
        actor=actor,
        subject_pins=[pair.pin],
        data=ACCESS_DATA,
        purpose=(
            gettext_noop("Đối soát liên kết dữ liệu %(kind)s, lượt %(job_id)s")
            % {"kind": pair.job.kind, "job_id": pair.job_id}
        ),
    )
    return PairDetail(
        id=pair.pk,
        job_id=pair.job_id,
        kind=pair.job.kind,
        kind_label=_kind_label(pair.job.kind),
        sector_id=pair.sector_id,
        pin=pair.pin,
        match_weight=pair.match_weight,
        probability=pair.probability,
        fields=fields,
        contributions=table,
        decision=pair.decision,
        decision_label=str(Decision(pair.decision).label),
        decided_by=pair.decided_by,
        decided_at=pair.decided_at,
        note=pair.note,
        version=pair.version,
    )


# --- the results as a table for a spreadsheet ---------------------------------------------------
# (CSV and Excel of the matches, in words, for the clerk)
FIELD_LABELS: dict[str, Any] = {
    "sector_id": gettext_lazy("Mã bản ghi"),
    "full_name": gettext_lazy("Họ và tên"),
    "birth_date": gettext_lazy("Ngày sinh"),
    "sex": gettext_lazy("Giới tính"),
    "cmnd": gettext_lazy("Số CMND"),
    "pin": gettext_lazy("Số định danh ghi trong tệp"),
    "ward": gettext_lazy("Xã, phường"),
    "address": gettext_lazy("Địa chỉ"),
}
ANSWER_COLUMNS = ("linked_pin", "candidate_pin", "match_weight", "match_probability", "class")


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


@dataclass(frozen=True)
class ResultsTable:
    """The per-record results in words: the dataset's own columns (named by what they hold
    when linkage knows it), then the answer."""

    job_id: int
    kind_label: str
    header: list[str]
    rows: list[list[Any]]


def linkage_results_table(*, actor: Actor, job_id: int) -> ResultsTable:
    """The job's per-record results for a spreadsheet, for those who run linkage; handing them
    out logs each citizen they name (through linkage_job_file)."""
    import duckdb

    found = linkage_job_file(actor=actor, job_id=job_id, which="output")
    job = _jobs_of(actor).filter(pk=job_id).values("kind", "columns").first()
    if job is None:
        raise NotFound(NO_JOB)
    mapping = {**(KINDS[job["kind"]].columns if job["kind"] in KINDS else {}), **job["columns"]}
    field_of = {column: name for name, column in mapping.items()}
    read = (
        "read_csv(?, header = true, all_varchar = true)"
        if found.path.suffix == ".csv"
        else "read_parquet(?)"
    )
    result = duckdb.execute(f"SELECT * FROM {read}", [str(found.path)])  # noqa: S608
    names = [d[0] for d in result.description]
    own = [n for n in names if n not in (*ANSWER_COLUMNS, "method")]
    header = [str(FIELD_LABELS[field_of[n]]) if n in field_of else n for n in own] + [
        _("Kết quả"),
        _("Cách liên kết"),
        _("Số định danh đã liên kết"),
        _("Số định danh cần đối soát"),
        _("Xác suất khớp (%)"),
    ]
    index = {n: i for i, n in enumerate(names)}
    rows: list[list[Any]] = []
    for values in result.fetchall():
        answer = {n: values[index[n]] if n in index else None for n in (*ANSWER_COLUMNS, "method")}
        klass = str(answer["class"] or "")
        probability = answer["match_probability"]
        rows.append(
            [values[index[n]] for n in own]
            + [
                str(CLASS_LABELS.get(klass, klass)),
                method_label(str(answer["method"])) if answer["method"] else "",
                answer["linked_pin"] or "",
                answer["candidate_pin"] or "",
                round(float(probability) * 100, 1) if probability is not None else "",
            ]
        )
    return ResultsTable(job_id, _kind_label(job["kind"]), header, rows)
