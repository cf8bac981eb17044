"""Linkage jobs through the services: a dataset is refused field by field before anything is
written, a retry finds the first job, only those with the rights start jobs and review pairs,
a decision is one audited change on the version the official saw, opening a pair is in the
citizen's access log, and decisions become the labels of the next job. End to end: the
Procrastinate worker runs a queued job through the real engine."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from motcua.catalog.tests.factories import Agency, agency_make, roles_give, roles_take
from motcua.core.actors import Actor
from motcua.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from motcua.core.models import AccessLog, AuditEntry
from motcua.linkage import selectors, services
from motcua.linkage.benchmark import benchmark_make
from motcua.linkage.dataset import KINDS
from motcua.linkage.models import Decision, LinkageJob, ReviewPair, Status
from motcua.registry.tests.factories import make_user

COLUMNS = KINDS["gplx"].columns  # field -> the gplx dataset's column
RUNNER_PERMISSIONS = ("linkage.run_linkage", "linkage.review_pair", "registry.view_citizen")


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _linkage_dir(settings: Any, tmp_path: Path) -> None:
    settings.LINKAGE_DIR = tmp_path / "jobs"


def agency(code: str = "H29.CA.TEST") -> Agency:
    """A provincial police department (another code, another agency)."""
    return agency_make(code, kind="province_police", name=f"Công an tỉnh {code}", unit_code="29")


def official(
    username: str = "lamsach.test", *permissions: str, of: str | None = "H29.CA.TEST"
) -> Actor:
    """A staff user with these rights (the runner's by default), an official of the agency `of`
    (of none if None)."""
    user = make_user(username, *(permissions or RUNNER_PERMISSIONS))
    if of is not None:
        roles_give(user, agency(of), "processor")
    return Actor.from_user(User.objects.get(pk=user.pk))


def gplx_csv(rows: list[dict[str, str]], *, drop: tuple[str, ...] = ()) -> bytes:
    """A driver's-licence dataset as the sector writes it (its own column names)."""
    columns = [c for f, c in COLUMNS.items() if f not in drop]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(f, "") for f, c in COLUMNS.items() if f not in drop])
    return out.getvalue().encode()


SAMPLE = [
    {"sector_id": "GPLX-1", "full_name": "Nguyễn Văn An", "birth_date": "12/05/1984", "sex": "Nam"},
    {"sector_id": "GPLX-2", "full_name": "Trần Thị Bình", "birth_date": "1990", "sex": "Nữ"},
]


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def parquet_bytes(rows: list[dict[str, str]]) -> bytes:
    table = pa.table({c: [r.get(f, "") for r in rows] for f, c in COLUMNS.items()})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def stored_datasets() -> set[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT) / services.DATASET_FOLDER
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def nothing_written(before: set[Path]) -> bool:
    return (
        LinkageJob.objects.count() == 0
        and AuditEntry.objects.filter(action__startswith="linkage.").count() == 0
        and stored_datasets() == before
    )


def start(actor: Actor, file: SimpleUploadedFile, key: str = "", **kw: Any) -> services.Started:
    return services.linkage_job_start(
        actor=actor,
        upload=file,
        kind=kw.pop("kind", "gplx"),
        idempotency_key=key or uuid.uuid4().hex,
        **kw,
    )


def make_job(kind: str = "gplx", **fields: Any) -> LinkageJob:
    defaults: dict[str, Any] = {
        "dataset_name": "linkage/none.csv",
        "original_name": "gplx.csv",
        "dataset_size": 100,
        "sha256": "0" * 64,
        "rows": 3,
        "created_by": "lamsach.test",
        "agency": agency(),
        "idempotency_key": uuid.uuid4().hex,
        "status": Status.DONE,
        "out_dir": "/nonexistent",
    }
    return LinkageJob.objects.create(kind=kind, **{**defaults, **fields})


def make_pair(job: LinkageJob, sector_id: str, pin: str, probability: float = 0.6) -> ReviewPair:
    return ReviewPair.objects.create(
        job=job,
        sector_id=sector_id,
        pin=pin,
        match_weight=0.5,
        probability=probability,
        record={"full_name": "Nguyen Van An", "birth_date": "12/05/1984", "sex": "M"},
        citizen={"full_name": "Nguyễn Văn An", "birth_date": "12/05/1984", "sex": "M"},
        contributions={
            "family": 3.1,
            "middle": 1.0,
            "given": 4.2,
            "dob": 8.2,
            "sex": 0.4,
            "cmnd": None,
            "place": -1.5,
        },
    )


# --- refusals before anything is written --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gplx.xlsx", gplx_csv(SAMPLE), "chỉ nhận tệp .csv hoặc .parquet"),
        ("gplx.csv", b"", "rỗng"),
        ("gplx.csv", "mã,họ tên\n1,Nguyễn".encode("cp1258", "replace") + b"\xff\xfe", "UTF-8"),
        ("gplx.csv", b"so_gplx,ho_ten\x00\n", "UTF-8"),
        ("gplx.csv", parquet_bytes(SAMPLE), "UTF-8"),
        ("gplx.parquet", gplx_csv(SAMPLE), "Parquet"),
        ("gplx.parquet", b"PAR1 truncated", "Parquet"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(
    name: str, content: bytes, message: str
) -> None:
    actor = official()
    before = stored_datasets()
    with pytest.raises(ValidationFailed) as refused:
        start(actor, upload(name, content))
    assert list(refused.value.errors) == ["dataset"]
    assert message.casefold() in refused.value.errors["dataset"].casefold()
    assert nothing_written(before)


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused(settings: Any) -> None:
    settings.LINKAGE_UPLOAD_MAX_BYTES = 50
    before = stored_datasets()
    with pytest.raises(ValidationFailed) as refused:
        start(official(), upload("gplx.csv", gplx_csv(SAMPLE)))
    assert "MB" in refused.value.errors["dataset"]
    assert nothing_written(before)


@pytest.mark.django_db
def test_the_engine_refuses_a_dataset_without_a_column_it_needs_field_by_field() -> None:
    actor = official()
    before = stored_datasets()
    with pytest.raises(ValidationFailed) as refused:
        start(actor, upload("gplx.csv", gplx_csv(SAMPLE, drop=("birth_date",))))
    assert "birth_date" in refused.value.errors
    assert "ngay_sinh" in refused.value.errors["birth_date"]
    assert nothing_written(before)  # the stored file was removed again

    bad_values = [{**SAMPLE[0], "birth_date": "31/31/1984"}, {**SAMPLE[0], "sector_id": "GPLX-1"}]
    with pytest.raises(ValidationFailed) as refused:
        start(actor, upload("gplx.csv", gplx_csv(bad_values)))
    assert {"birth_date", "sector_id"} <= set(refused.value.errors)
    assert nothing_written(before)


@pytest.mark.django_db
def test_column_names_of_the_file_replace_the_kinds_and_unknown_fields_are_refused() -> None:
    actor = official()
    renamed = gplx_csv(SAMPLE).replace(b"ngay_sinh", b"ns", 1)
    started = start(actor, upload("gplx.csv", renamed), columns={"birth_date": "ns"})
    assert LinkageJob.objects.get(pk=started.id).columns == {"birth_date": "ns"}

    before = stored_datasets()
    with pytest.raises(ValidationFailed) as refused:
        start(actor, upload("gplx.csv", renamed), columns={"shoe_size": "x"})
    assert "shoe_size" in refused.value.errors["columns"]
    with pytest.raises(ValidationFailed) as refused:
        start(actor, upload("gplx.csv", renamed), columns={"full_name": "hoten_khac"})
    assert "hoten_khac" in refused.value.errors["full_name"]
    assert stored_datasets() == before and LinkageJob.objects.count() == 1


@pytest.mark.django_db
def test_a_bad_kind_or_key_is_refused_before_the_file_is_read() -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.linkage_job_start(
            actor=official(), upload=upload("x.csv", b""), kind="passport", idempotency_key="short"
        )
    assert set(refused.value.errors) == {"kind", "idempotency_key"}


# --- starting -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_starts_once_per_key_audited_and_queued_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    actor = official()
    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = start(actor, upload("Giấy phép lái xe.csv", gplx_csv(SAMPLE)), key)
    assert first.created and len(callbacks) == 1
    again = start(actor, upload("other.csv", gplx_csv(SAMPLE[:1])), key)
    assert again == services.Started(first.id, created=False)

    job = LinkageJob.objects.get()
    assert (job.status, job.rows, job.original_name, job.kind) == (
        Status.QUEUED,
        2,
        "Giấy phép lái xe.csv",
        "gplx",
    )
    assert Path(job.out_dir).parent == services.jobs_dir()
    assert Path(job.out_dir).name.startswith(f"job-{job.pk}-")
    assert len(stored_datasets()) >= 1
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / job.dataset_name).read_bytes() == gplx_csv(SAMPLE)
    (entry,) = AuditEntry.objects.filter(action="linkage.job_start")
    assert entry.actor == "official:lamsach.test" and entry.object_id == str(job.pk)
    assert entry.after and entry.after["rows"] == 2 and entry.after["sha256"] == job.sha256
    queued = ProcrastinateJob.objects.get(task_name="linkage.job_run")
    assert queued.args == {"job_id": job.pk} and queued.status == "todo"
    assert queued.lock == f"linkage-job-{job.pk}" and queued.queue_name == "linkage"

    # Another official's key is another job.
    other = start(official("lamsach.khac"), upload("gplx.parquet", parquet_bytes(SAMPLE)), key)
    assert other.created and other.id != first.id


@pytest.mark.django_db
def test_only_officials_with_the_rights_start_jobs_see_them_and_review() -> None:
    file = gplx_csv(SAMPLE)
    for permissions in (
        ("registry.view_citizen",),  # may read the registry, not run linkage
        ("linkage.run_linkage",),  # may run linkage, not read the whole registry
        ("linkage.review_pair", "registry.view_citizen"),
    ):
        actor = official(f"u{len(permissions)}{permissions[0][:3]}", *permissions)
        with pytest.raises(PermissionDenied):
            start(actor, upload("gplx.csv", file))
    assert LinkageJob.objects.count() == 0

    job = make_job()
    pair = make_pair(job, "GPLX-1", "087084000111")
    nobody = official("khong.quyen", "registry.view_citizen")
    runner = official("chay.thoi", "linkage.run_linkage", "registry.view_citizen")
    for read in (
        lambda a: selectors.linkage_jobs(actor=a),
        lambda a: selectors.linkage_job_get(actor=a, job_id=job.pk),
        lambda a: selectors.linkage_job_progress(actor=a, job_id=job.pk),
    ):
        with pytest.raises(PermissionDenied):
            read(nobody)
        read(runner)
    for review in (
        lambda a: selectors.review_queue(actor=a, job_id=job.pk),
        lambda a: selectors.review_pair_get(actor=a, pair_id=pair.pk),
        lambda a: services.review_decide(actor=a, pair_id=pair.pk, decision="confirmed", version=1),
    ):
        with pytest.raises(PermissionDenied):
            review(runner)
    assert AccessLog.objects.count() == 0
    assert ReviewPair.objects.get().decision == Decision.PENDING


# --- each agency's own jobs ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_belongs_to_the_agency_of_the_official_who_starts_it() -> None:
    file = gplx_csv(SAMPLE)
    started = start(official(), upload("gplx.csv", file))
    job = LinkageJob.objects.get(pk=started.id)
    assert job.agency_id == agency().pk
    audited = AuditEntry.objects.get(action="linkage.job_start").after
    assert audited is not None and audited["agency"] == agency().pk

    with pytest.raises(PermissionDenied):  # an official of no agency
        start(official("khong.coquan", of=None), upload("gplx.csv", file))
    two = official("hai.coquan", of="H30.CA.TEST")
    roles_give(User.objects.get(username="hai.coquan"), agency(), "processor")
    with pytest.raises(ValidationFailed) as refused:
        start(two, upload("gplx.csv", file))
    assert list(refused.value.errors) == ["agency"]
    with pytest.raises(ValidationFailed) as refused:
        start(two, upload("gplx.csv", file), agency_id=agency("H31.CA.TEST").pk)
    assert list(refused.value.errors) == ["agency"]
    chosen = start(two, upload("gplx.csv", file), agency_id=agency("H30.CA.TEST").pk)
    assert LinkageJob.objects.get(pk=chosen.id).agency_id == agency("H30.CA.TEST").pk
    assert LinkageJob.objects.count() == 2


@pytest.mark.django_db
def test_attack_official_of_another_agency_reads_its_linkage_job_is_refused() -> None:
    job = make_job()
    pair = make_pair(job, "GPLX-1", "087084000111")
    owner = official()
    other = official("lamsach.khac", of="H30.CA.TEST")
    assert [j.id for j in selectors.linkage_jobs(actor=owner)] == [job.pk]
    assert selectors.linkage_jobs(actor=other) == []
    for read in (
        lambda a: selectors.linkage_job_get(actor=a, job_id=job.pk),
        lambda a: selectors.linkage_job_progress(actor=a, job_id=job.pk),
        lambda a: selectors.linkage_job_file(actor=a, job_id=job.pk, which="report"),
        lambda a: selectors.linkage_job_file(actor=a, job_id=job.pk, which="output"),
        lambda a: selectors.review_queue(actor=a, job_id=job.pk),
        lambda a: selectors.review_pair_get(actor=a, pair_id=pair.pk),
        lambda a: services.review_decide(actor=a, pair_id=pair.pk, decision="confirmed", version=1),
    ):
        with pytest.raises(NotFound):
            read(other)
    assert selectors.review_next_pending(actor=other, job_id=job.pk) is None
    LinkageJob.objects.filter(pk=job.pk).update(status=Status.FAILED)
    with pytest.raises(NotFound):
        services.linkage_job_resume(actor=other, job_id=job.pk)
    assert LinkageJob.objects.get(pk=job.pk).status == Status.FAILED
    assert ReviewPair.objects.get().decision == Decision.PENDING
    assert AccessLog.objects.count() == 0

    # A job from before jobs had an owner: nobody's.
    orphan = make_job(agency=None)
    with pytest.raises(NotFound):
        selectors.linkage_job_get(actor=owner, job_id=orphan.pk)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_job_whose_official_left_its_agency_fails_and_leaves_no_extract(tmp_path: Path) -> None:
    files = benchmark_make(registry=300, records=100, seed=5, out_dir=tmp_path / "bench")
    actor = official()
    started = start(actor, upload("gplx.parquet", files.dataset.read_bytes()))
    assert roles_take(actor.ref) == 1
    with pytest.raises(PermissionDenied):
        services.linkage_job_run(job_id=started.id)
    job = LinkageJob.objects.get(pk=started.id)
    assert job.status == Status.FAILED and "cơ quan" in job.error
    assert not Path(job.out_dir).exists() or not any(Path(job.out_dir).iterdir())


# --- review -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_queue_shows_pending_pairs_first_and_pages() -> None:
    job = make_job()
    decided = make_pair(job, "GPLX-0", "087084000100", probability=0.99)
    decided.decision = Decision.REJECTED
    decided.save()
    for n in range(1, 6):
        make_pair(job, f"GPLX-{n}", f"08708400010{n}", probability=n / 10)
    reviewer = official("doisoat", "linkage.review_pair")

    page = selectors.review_queue(actor=reviewer, job_id=job.pk, page_size=4)
    assert (page.total, page.pending, page.pages) == (6, 5, 2)
    assert [r.sector_id for r in page.rows] == ["GPLX-5", "GPLX-4", "GPLX-3", "GPLX-2"]
    last = selectors.review_queue(actor=reviewer, job_id=job.pk, page=9, page_size=4)
    assert last.page == 2 and [r.sector_id for r in last.rows] == ["GPLX-1", "GPLX-0"]
    rejected = selectors.review_queue(actor=reviewer, job_id=job.pk, decision="rejected")
    assert [r.sector_id for r in rejected.rows] == ["GPLX-0"] and rejected.total == 1
    assert AccessLog.objects.count() == 0  # the queue shows only the sector's side
    with pytest.raises(NotFound):
        selectors.review_queue(actor=reviewer, job_id=job.pk + 1)


@pytest.mark.django_db
def test_a_decision_is_one_audited_change_on_the_version_seen() -> None:
    job = make_job()
    first, second = (
        make_pair(job, "GPLX-1", "087084000111"),
        make_pair(job, "GPLX-2", "087084000222"),
    )
    reviewer = official("doisoat", "linkage.review_pair")

    seen = selectors.review_pair_get(actor=reviewer, pair_id=first.pk)
    log = AccessLog.objects.get()
    assert (log.subject_pin, log.actor, log.data) == (
        "087084000111",
        "official:doisoat",
        selectors.ACCESS_DATA,
    )
    assert f"lượt {job.pk}" in log.purpose
    assert [(f.field, f.record, f.citizen) for f in seen.fields][:2] == [
        ("full_name", "Nguyen Van An", "Nguyễn Văn An"),
        ("birth_date", "12/05/1984", "12/05/1984"),
    ]
    weights = {f.field: f.contribution for f in seen.fields}
    assert weights == {
        "full_name": 8.3,
        "birth_date": 8.2,
        "sex": 0.4,
        "cmnd": None,
        "ward": -1.5,
        "address": None,
    }
    assert ("dob", "Ngày sinh", 8.2) in seen.contributions

    decided = services.review_decide(
        actor=reviewer,
        pair_id=first.pk,
        decision="confirmed",
        note=" cùng người ",
        version=seen.version,
    )
    assert decided == services.Decided(first.pk, job.pk, "confirmed", 2)
    first.refresh_from_db()
    assert (first.decision, first.decided_by, first.note, first.version) == (
        "confirmed",
        "official:doisoat",
        "cùng người",
        2,
    )
    (entry,) = AuditEntry.objects.filter(action="linkage.review_decide")
    assert entry.object_id == str(first.pk) and entry.reason == "cùng người"
    assert entry.before == {"decision": "pending", "version": 1}
    assert (
        entry.after
        and entry.after["decision"] == "confirmed"
        and entry.after["pin"] == "087084000111"
    )

    # A second official on the page they opened before: refused, nothing changes.
    with pytest.raises(Conflict):
        services.review_decide(actor=reviewer, pair_id=first.pk, decision="rejected", version=1)
    with pytest.raises(Conflict):  # current version, but decided already
        services.review_decide(actor=reviewer, pair_id=first.pk, decision="rejected", version=2)
    with pytest.raises(ValidationFailed) as refused:
        services.review_decide(actor=reviewer, pair_id=second.pk, decision="maybe", version=1)
    assert list(refused.value.errors) == ["decision"]
    with pytest.raises(NotFound):
        services.review_decide(
            actor=reviewer, pair_id=second.pk + 100, decision="rejected", version=1
        )
    assert AuditEntry.objects.filter(action="linkage.review_decide").count() == 1

    assert selectors.review_next_pending(actor=reviewer, job_id=job.pk) == second.pk
    services.review_decide(actor=reviewer, pair_id=second.pk, decision="rejected", version=1)
    assert selectors.review_next_pending(actor=reviewer, job_id=job.pk) is None
    assert ReviewPair.objects.get(pk=second.pk).decision == "rejected"


@pytest.mark.django_db
def test_decisions_on_earlier_jobs_of_the_kind_become_the_next_jobs_labels(tmp_path: Path) -> None:
    reviewer = official("doisoat", "linkage.review_pair")
    earlier, other_kind = make_job(), make_job(kind="bhyt")
    pairs = [make_pair(earlier, f"GPLX-{n}", f"08708400011{n}") for n in range(3)]
    for pair, decision in zip(pairs, ("confirmed", "rejected"), strict=False):
        services.review_decide(actor=reviewer, pair_id=pair.pk, decision=decision, version=1)
    bhyt = make_pair(other_kind, "BHYT-1", "087084000999")
    services.review_decide(actor=reviewer, pair_id=bhyt.pk, decision="confirmed", version=1)
    job = make_job(status=Status.QUEUED)

    path = services._labels_written(job, tmp_path)
    assert path is not None
    with open(path, encoding="utf-8") as labels:
        assert list(csv.reader(labels)) == [
            ["sector_id", "pin", "is_match"],
            ["GPLX-0", "087084000110", "true"],
            ["GPLX-1", "087084000111", "false"],
        ]
    # Kept as written for a resumed run.
    services.review_decide(actor=reviewer, pair_id=pairs[2].pk, decision="confirmed", version=1)
    assert services._labels_written(job, tmp_path) == path
    assert path.read_text(encoding="utf-8").count("\n") == 3
    (tmp_path / "g").mkdir()
    assert (
        services._labels_written(make_job(status=Status.QUEUED, kind="generic"), tmp_path / "g")
        is None
    )


# --- the worker runs a job end to end -----------------------------------------------------------


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Any]:
    """Run the queued linkage jobs once, as `motcua procrastinate worker` would, then return
    (only linkage's queue: other apps' periodic jobs would write audit rows of their own)."""

    def run() -> None:
        connector: Any = app.connector  # the Django connector; workers need one of their own
        with app.replace_connector(connector.get_worker_connector()):
            app.run_worker(
                queues=["linkage"],
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
            )

    yield run


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_runs_a_queued_job_and_its_decisions_train_the_next(
    worker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels_seen: list[str] = []  # the labels each run trained on (the file goes with the run)
    engine = services.link

    def link_noting_labels(spec: Any, **kwargs: Any) -> Any:
        labels_seen.append(spec.labels.read_text(encoding="utf-8") if spec.labels else "")
        return engine(spec, **kwargs)

    monkeypatch.setattr(services, "link", link_noting_labels)
    files = benchmark_make(registry=600, records=400, seed=11, out_dir=tmp_path / "bench")
    actor = official()
    dataset = files.dataset.read_bytes()
    started = start(actor, upload("gplx.parquet", dataset))
    job = LinkageJob.objects.get(pk=started.id)
    assert job.status == Status.QUEUED

    worker()

    job.refresh_from_db()
    assert job.status == Status.DONE, job.error
    assert job.records == 400 and job.linked + job.review + job.unlinked == 400
    assert job.linked > 300 and sum(job.by_method.values()) == job.linked
    assert (job.stage, job.started is not None, job.finished is not None) == ("report", True, True)
    assert ProcrastinateJob.objects.get(args={"job_id": job.pk}).status == "succeeded"
    out_dir = Path(job.out_dir)
    # Every citizen's facts, in the extract and all the engine derived from it: not kept once
    # done. The results and the report stay.
    assert sorted(p.name for p in out_dir.iterdir()) == ["links.parquet", "report.html"]
    assert Path(job.report).is_file() and Path(job.output).is_file()
    assert job.agency_id == agency().pk
    assert [e.action for e in AuditEntry.objects.filter(object_id=str(job.pk)).order_by("pk")] == [
        "linkage.job_start",
        "linkage.job_run",
        "linkage.registry_extract",
        "linkage.job_finish",
    ]
    pairs = list(ReviewPair.objects.filter(job=job))
    assert pairs, "the benchmark's corruptions leave pairs to review"
    assert all(p.record and p.citizen and p.contributions for p in pairs)
    detail = selectors.linkage_job_get(actor=actor, job_id=job.pk)
    assert detail.has_report and detail.has_output and detail.row.pending == len(pairs)
    assert selectors.linkage_job_progress(actor=actor, job_id=job.pk).percent == 100

    # A second run of a finished job changes nothing.
    services.linkage_job_run(job_id=job.pk)
    assert AuditEntry.objects.filter(object_id=str(job.pk)).count() == 4

    # The reviewer's decisions are the labels of the next job of the kind.
    confirmed, rejected = pairs[0], pairs[-1]
    for pair, decision in ((confirmed, "confirmed"), (rejected, "rejected")):
        services.review_decide(actor=actor, pair_id=pair.pk, decision=decision, version=1)
    second = start(actor, upload("gplx.parquet", dataset))
    worker()
    job2 = LinkageJob.objects.get(pk=second.id)
    assert job2.status == Status.DONE, job2.error
    rows = list(csv.DictReader(io.StringIO(labels_seen[-1])))
    assert {(r["sector_id"], r["pin"], r["is_match"]) for r in rows} == {
        (confirmed.sector_id, confirmed.pin, "true"),
        (rejected.sector_id, rejected.pin, "false"),
    }
    again = {(p.sector_id, p.pin) for p in ReviewPair.objects.filter(job=job2)}
    assert (confirmed.sector_id, confirmed.pin) not in again  # decided: no longer a question
    assert (rejected.sector_id, rejected.pin) not in again


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_run_is_marked_with_its_error_and_a_new_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = benchmark_make(registry=300, records=200, seed=5, out_dir=tmp_path / "bench")
    actor = official()
    started = start(actor, upload("gplx.parquet", files.dataset.read_bytes()))
    # Procrastinate's tables are not flushed between tests: count from here.
    queued = ProcrastinateJob.objects.filter(args={"job_id": started.id}).count()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "link", broken)
    with pytest.raises(RuntimeError):
        services.linkage_job_run(job_id=started.id)
    job = LinkageJob.objects.get(pk=started.id)
    assert (job.status, job.error) == (Status.FAILED, "RuntimeError: disk full")
    extract = Path(job.out_dir) / "registry.csv"
    assert not extract.exists()  # every citizen's facts: not kept once the job has ended
    assert not any(Path(job.out_dir).iterdir())

    monkeypatch.undo()
    with pytest.raises(PermissionDenied):
        services.linkage_job_resume(
            actor=official("chi.doisoat", "linkage.review_pair"), job_id=started.id
        )
    services.linkage_job_resume(actor=actor, job_id=started.id)
    assert LinkageJob.objects.get(pk=started.id).status == Status.QUEUED
    with pytest.raises(Conflict):
        services.linkage_job_resume(actor=actor, job_id=started.id)
    assert ProcrastinateJob.objects.filter(args={"job_id": started.id}).count() == queued + 1
    services.linkage_job_run(job_id=started.id)
    job.refresh_from_db()
    assert job.status == Status.DONE and job.error == ""
    assert not extract.exists()
    actions = [e.action for e in AuditEntry.objects.filter(object_id=str(job.pk)).order_by("pk")]
    assert actions == [
        "linkage.job_start",
        "linkage.job_run",
        "linkage.registry_extract",
        "linkage.job_fail",
        "linkage.job_resume",
        "linkage.job_run",
        "linkage.registry_extract",  # the resumed run extracts again
        "linkage.job_finish",
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_job_whose_official_lost_the_right_to_read_the_registry_fails(tmp_path: Path) -> None:
    files = benchmark_make(registry=300, records=100, seed=5, out_dir=tmp_path / "bench")
    actor = official()
    started = start(actor, upload("gplx.parquet", files.dataset.read_bytes()))
    User.objects.filter(username=actor.ref).update(is_active=False)
    with pytest.raises(PermissionDenied):
        services.linkage_job_run(job_id=started.id)
    job = LinkageJob.objects.get(pk=started.id)
    assert job.status == Status.FAILED and "lamsach.test" in job.error
    assert not (Path(job.out_dir) / "registry.csv").exists()
