"""Writes of linkage: an official starts a job with a sector dataset, a background worker runs
it (resumably) and files the pairs it could not decide, officials confirm or reject them.

A job starts only with a dataset that the engine accepts: the upload is checked by content, then
by the engine's own check of its columns, and refused field by field before anything is written.
Confirmed and rejected pairs become the labels of the next job of the same kind."""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from motcua.catalog.selectors import official_roles
from motcua.core.actors import SYSTEM, Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from motcua.core.text import nfc
from motcua.core.uploads import display_name, private_storage
from motcua.linkage.benchmark import NOT_IN_REGISTRY as NOT_IN_REGISTRY  # the face for the demo
from motcua.linkage.benchmark import benchmark_make as benchmark_make
from motcua.linkage.dataset import FIELDS, KINDS
from motcua.linkage.models import Decision, LinkageJob, ReviewPair, Status
from motcua.linkage.pipeline import (
    DatasetError,
    LinkResult,
    LinkSpec,
    Progress,
    dataset_check,
    link,
)
from motcua.linkage.trail import citizens_told
from motcua.registry.selectors import VIEW_PERMISSION as REGISTRY_VIEW
from motcua.registry.selectors import linkage_extract

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


RUN_PERMISSION = "linkage.run_linkage"
REVIEW_PERMISSION = "linkage.review_pair"
DATASET_FOLDER = "linkage"
MAX_NOTE = 2000
MAX_ERROR = 4000
# Sector datasets are far larger than scanned papers: their own limit, MOTCUA's by default.
DEFAULT_MAX_BYTES = 512 * 2**20
PROGRESS_INTERVAL_S = 1.0
IMPORT_BATCH = 5000
# Session-level advisory locks of PostgreSQL in this key space belong to running linkage jobs.
_LOCK_SPACE = 0x4C4B << 32

EMPTY = gettext_lazy("Tệp rỗng")
TOO_LARGE = gettext_lazy("Tệp vượt quá {mb} MB")
NOT_ACCEPTED = gettext_lazy("Chỉ nhận tệp .csv hoặc .parquet")
NOT_PARQUET = gettext_lazy("Tệp không phải Parquet hợp lệ")
NOT_CSV = gettext_lazy("Tệp CSV phải là văn bản mã hoá UTF-8")
NO_JOB = gettext_lazy("Không có lượt liên kết này")
NO_AGENCY = gettext_lazy("Chỉ cán bộ của một cơ quan mới chạy liên kết dữ liệu")
PARQUET_MAGIC = b"PAR1"


def jobs_dir() -> Path:
    """Where the engine works: one folder per job, on this machine (the engine needs files).
    Beside the private uploads by default: the folders hold extracts of the registry."""
    return Path(
        getattr(settings, "LINKAGE_DIR", Path(settings.PRIVATE_MEDIA_ROOT) / "linkage-jobs")
    )


def max_upload_bytes() -> int:
    return int(
        getattr(
            settings, "LINKAGE_UPLOAD_MAX_BYTES", max(settings.UPLOAD_MAX_BYTES, DEFAULT_MAX_BYTES)
        )
    )


# --- the upload ---------------------------------------------------------------------------------

Format = Literal["csv", "parquet"]
_EXTENSIONS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class CheckedDataset:
    format: Format
    extension: str
    size: int
    sha256: str
    original_name: str  # the client's name, sanitised: only ever shown


def dataset_upload_check(upload: UploadedFile, *, field: str = "dataset") -> CheckedDataset:
    """A .csv file that is UTF-8 text or a .parquet file that is Parquet, within the limit.

    The name only says which of the two the file claims to be; its bytes must agree."""

    def refuse(why: StrOrPromise) -> ValidationFailed:
        return ValidationFailed({field: why})

    name = display_name(upload.name)
    extension = Path(name).suffix.lower()
    if extension not in _EXTENSIONS:
        raise refuse(NOT_ACCEPTED)
    fmt = _EXTENSIONS[extension]
    limit = max_upload_bytes()
    scan = _scan(upload, limit, text=fmt == "csv")
    if scan.size == 0:
        raise refuse(EMPTY)
    if scan.size > limit:
        raise refuse(TOO_LARGE.format(mb=f"{limit / 2**20:.1f}".removesuffix(".0")))
    if fmt == "parquet" and not (
        scan.size >= 3 * len(PARQUET_MAGIC)
        and scan.head.startswith(PARQUET_MAGIC)
        and scan.tail.endswith(PARQUET_MAGIC)
    ):
        raise refuse(NOT_PARQUET)
    if fmt == "csv" and (not scan.utf8 or scan.head.startswith(PARQUET_MAGIC)):
        raise refuse(NOT_CSV)
    return CheckedDataset(fmt, extension, scan.size, scan.sha256, name)


@dataclass(frozen=True)
class _Scan:
    size: int
    sha256: str
    head: bytes
    tail: bytes
    utf8: bool


def _scan(upload: UploadedFile, limit: int, *, text: bool) -> _Scan:
    """One pass over the file: size, digest, first and last bytes, and (for text) whether it
    decodes as UTF-8 without NUL characters. Stops reading once past the limit."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, head, tail, utf8 = 0, b"", b"", text
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
        if len(head) < 8:
            head = (head + chunk)[:8]
        tail = (tail + chunk)[-8:]
        if utf8:
            try:
                utf8 = "\x00" not in decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    upload.seek(0)
    return _Scan(size, digest.hexdigest(), head, tail, utf8)


def _stored(upload: UploadedFile, checked: CheckedDataset) -> str:
    name = f"{DATASET_FOLDER}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{checked.extension}"
    # A plain File is copied in chunks; the upload itself may be moved away by the storage.
    return private_storage().save(name, File(upload.file))


def _discard(name: str) -> None:
    private_storage().delete(name)


def _local_dataset(name: str, scratch: Path) -> Path:
    """The stored dataset as a local file, which the engine needs: the file itself on the
    filesystem storage, else a copy in `scratch`."""
    storage = private_storage()
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # a remote storage (S3)
        target = scratch / Path(name).name
        if not target.exists():
            scratch.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            with storage.open(name, "rb") as source, open(part, "wb") as out:
                for chunk in iter(lambda: source.read(2**20), b""):
                    out.write(chunk)
            os.replace(part, target)
        return target


# --- starting a job -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    id: int
    created: bool  # False when a retry found the job of the first try


def _columns_checked(columns: Mapping[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    bad: list[str] = []
    for field, column in (columns or {}).items():
        name = nfc(str(column))
        if field not in FIELDS or not name or len(name) > 100:
            bad.append(str(field))
        else:
            cleaned[field] = name
    if bad:
        raise ValidationFailed(
            {
                "columns": _("Không hiểu trường: %(bad)s (trường hợp lệ: %(valid)s)")
                % {"bad": ", ".join(bad), "valid": ", ".join(FIELDS)}
            }
        )
    return cleaned


def agencies_of(actor: Actor) -> frozenset[int]:
    """The agencies whose linkage jobs the official works on: those they serve."""
    if actor.kind != "official":
        return frozenset()
    return frozenset(official_roles(actor.ref))


def _owner_agency(actor: Actor, agency_id: int | None) -> int:
    """The agency a new job works for: the official's own (the one they pick if several)."""
    served = agencies_of(actor)
    if not served:
        raise PermissionDenied(NO_AGENCY)
    if agency_id is None and len(served) == 1:
        return next(iter(served))
    if agency_id is None:
        raise ValidationFailed({"agency": _("Chọn cơ quan")})
    if agency_id not in served:
        raise ValidationFailed({"agency": _("Không phải cơ quan của bạn")})
    return agency_id


def _earlier(creator: str, key: str) -> Started | None:
    pk = (
        LinkageJob.objects.filter(created_by=creator, idempotency_key=key)
        .values_list("pk", flat=True)
        .first()
    )
    return Started(pk, created=False) if pk else None


def linkage_job_start(
    *,
    actor: Actor,
    upload: UploadedFile,
    kind: str,
    idempotency_key: str,
    columns: Mapping[str, str] | None = None,
    agency_id: int | None = None,
) -> Started:
    """Queue a linkage job for a sector dataset, owned by the official's agency (`agency_id`
    when they serve several). The dataset is refused (ValidationFailed, by field) before any job
    exists if it is not what it claims or lacks a column the kind needs. A retry with the same
    idempotency key returns the first job."""
    actor.require(RUN_PERMISSION)
    actor.require(REGISTRY_VIEW)  # the job reads every citizen's linkage facts
    owner = _owner_agency(actor, agency_id)
    key = idempotency_key.strip()
    errors: dict[str, str] = {}
    if not 8 <= len(key) <= 64:
        errors["idempotency_key"] = _("Khóa chống trùng 8-64 ký tự")
    if kind not in KINDS:
        errors["kind"] = _("Chọn loại dữ liệu")
    if errors:
        raise ValidationFailed(errors)
    if earlier := _earlier(actor.ref, key):
        return earlier
    mapping = _columns_checked(columns)
    checked = dataset_upload_check(upload, field="dataset")
    name = _stored(upload, checked)
    try:
        rows = _engine_accepts(name, kind, mapping)
        return _job_created(actor, owner, kind, key, name, checked, rows, mapping)
    except IntegrityError:
        # The same key raced in from another request: that one won, its job is the answer.
        _discard(name)
        if earlier := _earlier(actor.ref, key):
            return earlier
        raise
    except BaseException:
        _discard(name)
        raise


def _engine_accepts(name: str, kind: str, columns: dict[str, str]) -> int:
    """The engine's own check of the stored file (columns, readable rows); its row count."""
    scratch = jobs_dir() / "incoming" / uuid.uuid4().hex
    local = _local_dataset(name, scratch)
    try:
        info = dataset_check(
            LinkSpec(dataset=local, kind=kind, out_dir=scratch / "check", columns=columns)
        )
    except DatasetError as error:
        raise ValidationFailed(
            dict(error.errors) or {"dataset": str(error)},
            _("Tệp dữ liệu không dùng được"),
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # a remote storage's local copy
    return info.rows


@transaction.atomic(durable=True)
def _job_created(
    actor: Actor,
    agency_id: int,
    kind: str,
    key: str,
    name: str,
    checked: CheckedDataset,
    rows: int,
    columns: dict[str, str],
) -> Started:
    job = LinkageJob.objects.create(
        kind=kind,
        dataset_name=name,
        original_name=checked.original_name,
        dataset_size=checked.size,
        sha256=checked.sha256,
        rows=rows,
        columns=columns,
        created_by=actor.ref,
        agency_id=agency_id,
        idempotency_key=key,
    )
    # Never a folder an earlier job left (another database on the same disk, a reset one): a
    # resumed run trusts what it finds there.
    job.out_dir = str(jobs_dir() / f"job-{job.pk}-{uuid.uuid4().hex[:12]}")
    job.save(update_fields=["out_dir"])
    audit_record(
        actor=actor,
        action="linkage.job_start",
        object_type="linkage.linkagejob",
        object_id=str(job.pk),
        after={
            "kind": kind,
            "agency": agency_id,
            "file": checked.original_name,
            "size": checked.size,
            "sha256": checked.sha256,
            "rows": rows,
            "columns": columns,
        },
    )
    job_id = job.pk
    transaction.on_commit(lambda: job_enqueue(job_id))
    return Started(job_id, created=True)


@transaction.atomic(durable=True)
def linkage_job_resume(*, actor: Actor, job_id: int) -> None:
    """Queue a failed job again; its run resumes where the engine stopped."""
    actor.require(RUN_PERMISSION)
    actor.require(REGISTRY_VIEW)
    job = (
        LinkageJob.objects.select_for_update()
        .filter(pk=job_id, agency_id__in=agencies_of(actor))
        .first()
    )
    if job is None:
        raise NotFound(NO_JOB)
    if job.status != Status.FAILED:
        raise Conflict(_("Chỉ chạy lại lượt bị lỗi"))
    before = {"status": job.status, "error": job.error}
    job.status = Status.QUEUED
    job.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="linkage.job_resume",
        object_type="linkage.linkagejob",
        object_id=str(job.pk),
        before=before,
        after={"status": job.status},
    )
    transaction.on_commit(lambda: job_enqueue(job_id))


def job_enqueue(job_id: int) -> None:
    """Hand the job to the background worker; one run of a job at a time."""
    from motcua.linkage.tasks import linkage_job_run as task

    task.configure(lock=f"linkage-job-{job_id}").defer(job_id=job_id)


# --- running a job (the worker's task) ----------------------------------------------------------


def linkage_job_run(*, job_id: int) -> None:
    """Run a job to the end: extract the registry, gather the clerical labels, link, file the
    pairs to review. Safe to call again: a done job is left alone, a failed or interrupted one
    resumes where the engine stopped. Raises what the engine raised, after marking the job
    failed."""
    with _exclusive(job_id):
        job = _run_started(job_id)
        if job is None:
            return
        actor: Actor = SYSTEM
        try:
            actor = _runner(job)
            out_dir = Path(job.out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            report = ProgressWriter(job.pk)
            registry_csv = _registry_extracted(actor, job, out_dir, report)
            spec = LinkSpec(
                dataset=_local_dataset(job.dataset_name, out_dir / "dataset"),
                kind=job.kind,
                out_dir=out_dir,
                columns=dict(job.columns),
                labels=_labels_written(job, out_dir),
                output_format="parquet",
            )
            result = link(spec, registry_csv=registry_csv, progress=report)
            _finished(actor, job.pk, result)
        except BaseException as error:
            _failed(actor, job.pk, error)
            _work_removed(Path(job.out_dir), keep=())
            raise
        _work_removed(out_dir, keep=(Path(result.output), Path(result.report)))


def _work_removed(out_dir: Path, *, keep: tuple[Path, ...]) -> None:
    """The job's working files, once it has ended: the registry extract and everything the
    engine derived from it (normalised registry, candidate pairs, scores). Only the results
    and the report of a finished job stay. They exist only while the job runs, or after a
    crash until its retry resumes from them: a failed job's resumed run starts over."""
    if not out_dir.is_dir():
        return
    kept = {path.resolve() for path in keep}
    for path in out_dir.iterdir():
        if path.resolve() in kept:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(job_id: int) -> Iterator[None]:
    """One run of a job at a time across processes (a PostgreSQL session lock: released even
    when the process dies)."""
    key = _LOCK_SPACE + job_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            raise Conflict(_("Lượt liên kết này đang chạy"))
    try:
        yield
    finally:
        # A lost connection has released the lock already; its error must not hide the run's.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@transaction.atomic(durable=True)
def _run_started(job_id: int) -> LinkageJob | None:
    job = LinkageJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(NO_JOB)
    if job.status == Status.DONE:
        return None
    before = {"status": job.status}
    job.status, job.error, job.finished = Status.RUNNING, "", None
    job.started = job.started or timezone.now()
    job.save(update_fields=["status", "error", "finished", "started"])
    audit_record(
        actor=SYSTEM,
        action="linkage.job_run",
        object_type="linkage.linkagejob",
        object_id=str(job.pk),
        reason=gettext_noop("Chạy thay cho %(created_by)s") % {"created_by": job.created_by},
        before=before,
        after={"status": job.status},
    )
    return job


def _runner(job: LinkageJob) -> Actor:
    """The job reads the registry with the rights its creator has now: an official who lost
    them, left, or no longer serves the job's agency cannot have a job of theirs read it."""
    user = User.objects.filter(username=job.created_by, is_active=True).first()
    if user is None:
        raise PermissionDenied(
            _("Tài khoản %(created_by)s không còn hoạt động") % {"created_by": job.created_by}
        )
    actor = Actor.from_user(user)
    actor.require(RUN_PERMISSION)
    if job.agency_id is None or job.agency_id not in agencies_of(actor):
        raise PermissionDenied(
            _("%(created_by)s không còn là cán bộ của cơ quan chủ lượt này")
            % {"created_by": job.created_by}
        )
    return actor


def _registry_extracted(
    actor: Actor, job: LinkageJob, out_dir: Path, report: ProgressWriter
) -> Path:
    """The registry's linkage facts as a CSV file, extracted once per job (a resumed run reuses
    it: the engine's finished stages were computed from it)."""
    path = out_dir / "registry.csv"
    if path.exists():
        return path
    report(Progress(stage="registry", done=0, total=1))
    part = out_dir / "registry.csv.part"
    linkage_extract(
        actor=actor,
        path=str(part),
        purpose=gettext_noop("Liên kết dữ liệu %(kind)s, lượt %(pk)s")
        % {"kind": job.kind, "pk": job.pk},
    )
    os.replace(part, path)
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="linkage.registry_extract",
            object_type="linkage.linkagejob",
            object_id=str(job.pk),
            reason=gettext_noop("Trích xuất CSDL dân cư để liên kết"),
            after={"bytes": path.stat().st_size},
        )
    return path


LABEL_COLUMNS = ("sector_id", "pin", "is_match")


def _labels_written(job: LinkageJob, out_dir: Path) -> Path | None:
    """Officials' decisions on earlier jobs of the same kind, as the engine's labels: the file is
    written at the job's first run and kept, so that a resumed run trains on the same labels.
    None when there is no decision yet."""
    path = out_dir / "labels.csv"
    if not path.exists():
        decided = (
            ReviewPair.objects.filter(
                job__kind=job.kind,
                job__pk__lt=job.pk,
                decision__in=[Decision.CONFIRMED, Decision.REJECTED],
            )
            .order_by("decided_at", "pk")
            .values_list("sector_id", "pin", "decision")
        )
        latest = {(sector_id, pin): d for sector_id, pin, d in decided.iterator()}
        part = out_dir / "labels.csv.part"
        with open(part, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(LABEL_COLUMNS)
            for (sector_id, pin), decision in latest.items():
                writer.writerow(
                    [sector_id, pin, "true" if decision == Decision.CONFIRMED else "false"]
                )
        os.replace(part, path)
    with open(path, encoding="utf-8") as labels:
        has_rows = sum(1 for _ in zip(range(2), labels, strict=False)) > 1
    return path if has_rows else None


class ProgressWriter:
    """The engine's progress onto the job row, each write its own short transaction, at most
    about once a second (and at every change of stage, and when a stage completes)."""

    def __init__(self, job_id: int, *, interval: float = PROGRESS_INTERVAL_S) -> None:
        self.job_id = job_id
        self.interval = interval
        self._last = float("-inf")
        self._stage = ""
        self._lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        with self._lock:
            if (
                progress.stage == self._stage
                and now - self._last < self.interval
                and progress.done < progress.total
            ):
                return
            self._last, self._stage = now, progress.stage
            LinkageJob.objects.filter(pk=self.job_id).update(
                stage=progress.stage, done=progress.done, total=progress.total
            )


@transaction.atomic(durable=True)
def _finished(actor: Actor, job_id: int, result: LinkResult) -> None:
    job = LinkageJob.objects.select_for_update().get(pk=job_id)
    pairs = _pairs_imported(job, Path(result.review_pairs))
    before = {"status": job.status}
    job.status = Status.DONE
    job.records, job.linked, job.review, job.unlinked = (
        result.records,
        result.linked,
        result.review,
        result.unlinked,
    )
    job.by_method = dict(result.by_method)
    job.output, job.report, job.wall_s = str(result.output), str(result.report), result.wall_s
    job.finished = timezone.now()
    job.save()
    citizens_told(actor=actor, kind=job.kind, out_dir=Path(result.output).parent)
    audit_record(
        actor=actor,
        action="linkage.job_finish",
        object_type="linkage.linkagejob",
        object_id=str(job.pk),
        before=before,
        after={
            "status": job.status,
            "records": job.records,
            "linked": job.linked,
            "review": job.review,
            "unlinked": job.unlinked,
            "by_method": job.by_method,
            "pairs": pairs,
        },
    )


PAIR_COLUMNS = (
    "sector_id",
    "pin",
    "match_weight",
    "match_probability",
    "record",
    "citizen",
    "contributions",
)


def _json(text: Any) -> dict[str, Any]:
    if text is None or text == "":
        return {}
    value = json.loads(text) if isinstance(text, str | bytes) else text
    return value if isinstance(value, dict) else {}


def _pairs_imported(job: LinkageJob, path: Path) -> int:
    """The engine's pairs to review as rows (in the caller's transaction; a pair filed by an
    earlier, interrupted import is kept as it is)."""
    import pyarrow.parquet as pq

    imported = 0
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=IMPORT_BATCH, columns=list(PAIR_COLUMNS)):
        rows = [
            ReviewPair(
                job=job,
                sector_id=str(row["sector_id"]),
                pin=str(row["pin"]),
                match_weight=float(row["match_weight"]),
                probability=float(row["match_probability"]),
                record=_json(row["record"]),
                citizen=_json(row["citizen"]),
                contributions=_json(row["contributions"]),
            )
            for row in batch.to_pylist()
        ]
        ReviewPair.objects.bulk_create(rows, ignore_conflicts=True)
        imported += len(rows)
    return imported


def _failed(actor: Actor, job_id: int, error: BaseException) -> None:
    text = error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    with transaction.atomic():
        job = LinkageJob.objects.select_for_update().get(pk=job_id)
        before = {"status": job.status, "stage": job.stage}
        job.status, job.error, job.finished = Status.FAILED, text[:MAX_ERROR], timezone.now()
        job.save(update_fields=["status", "error", "finished"])
        audit_record(
            actor=actor,
            action="linkage.job_fail",
            object_type="linkage.linkagejob",
            object_id=str(job_id),
            reason=job.error,
            before=before,
            after={"status": job.status},
        )


# --- clerical review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    pair_id: int
    job_id: int
    decision: str
    version: int


DECISIONS = (Decision.CONFIRMED, Decision.REJECTED)


@transaction.atomic(durable=True)
def review_decide(
    *, actor: Actor, pair_id: int, decision: str, note: str = "", version: int
) -> Decided:
    """An official says whether a pair is one person (confirmed) or two (rejected). Two
    officials deciding the same version: one wins, the other gets a conflict."""
    actor.require(REVIEW_PERMISSION)
    note = nfc(note)[:MAX_NOTE]
    if decision not in DECISIONS:
        raise ValidationFailed({"decision": _("Chọn xác nhận hoặc bác bỏ")})
    pair = (
        ReviewPair.objects.select_for_update(of=("self",))
        .filter(pk=pair_id, job__agency_id__in=agencies_of(actor))
        .first()
    )
    if pair is None:
        raise NotFound(_("Không có cặp bản ghi này"))
    if pair.version != version:
        raise Conflict(_("Cặp này vừa được người khác cập nhật; hãy tải lại trang"))
    if pair.decision != Decision.PENDING:
        raise Conflict(_("Cặp này đã được đối soát"))
    before = {"decision": pair.decision, "version": pair.version}
    pair.decision = decision
    pair.decided_by, pair.decided_at, pair.note = actor.label, timezone.now(), note
    pair.version += 1
    pair.save(update_fields=["decision", "decided_by", "decided_at", "note", "version"])
    audit_record(
        actor=actor,
        action="linkage.review_decide",
        object_type="linkage.reviewpair",
        object_id=str(pair.pk),
        reason=note,
        before=before,
        after={
            "decision": pair.decision,
            "version": pair.version,
            "job": pair.job_id,
            "sector_id": pair.sector_id,
            "pin": pair.pin,
        },
    )
    return Decided(pair.pk, pair.job_id, pair.decision, pair.version)
