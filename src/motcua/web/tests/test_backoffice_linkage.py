"""The back office's record-linkage pages: an official with the right starts a job from the form
(and meets the field-level refusals), follows it on its page and its progress endpoint (in a
real browser too), reads its report under a strict policy, downloads its results, and reviews
its pairs side by side, each opening in the citizen's access log, each decision on the version
seen."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from motcua.catalog.tests.factories import Agency, agency_make, roles_give
from motcua.core.models import AccessLog, AuditEntry
from motcua.linkage.selectors import KINDS
from motcua.registry.tests.factories import make_user
from motcua.web.tests.staff import authenticator, code_now, official_client

PASSWORD = "x-test-password-1"  # what make_user sets
RUNNER = ("linkage.run_linkage", "linkage.review_pair", "registry.view_citizen")
REVIEWER = ("linkage.review_pair",)
NAV_LINK = 'class="govuk-service-navigation__link" href="/can-bo/lien-ket/"'
# The linkage app keeps its tables to itself (import-linter): the tests reach them by name.
LinkageJob: Any = apps.get_model("linkage", "LinkageJob")
ReviewPair: Any = apps.get_model("linkage", "ReviewPair")


@pytest.fixture(autouse=True)
def _linkage_dir(settings: Any, tmp_path: Path) -> None:
    settings.LINKAGE_DIR = tmp_path / "jobs"


def agency(code: str = "H29.CA.TEST") -> Agency:
    """A provincial police department: the agency whose linkage jobs the tests' officials work on
    (another code, another agency)."""
    return agency_make(code, kind="province_police", name=f"Công an tỉnh {code}", unit_code="29")


def staff(username: str, *permissions: str, of: str = "H29.CA.TEST") -> User:
    """A staff user with these rights, an official of the agency `of`, with an authenticator."""
    user = make_user(username, *permissions)
    user.is_staff = True
    user.save()
    roles_give(user, agency(of), "processor")
    authenticator(user)
    return user


def signed_in(username: str, *permissions: str, of: str = "H29.CA.TEST") -> Client:
    return official_client(staff(username, *permissions, of=of))


def gplx_csv(*, without: str = "") -> bytes:
    columns = {f: c for f, c in KINDS["gplx"].columns.items() if f != without}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns.values()))
    writer.writeheader()
    for n, (name, born) in enumerate((("Nguyễn Văn An", "12/05/1984"), ("Lê Thị Hoa", "1990"))):
        row = {"sector_id": f"GPLX-{n}", "full_name": name, "birth_date": born, "sex": ""}
        writer.writerow({c: row.get(f, "") for f, c in columns.items()})
    return out.getvalue().encode()


def dataset_file(content: bytes, name: str = "gplx.csv") -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def make_job(tmp_path: Path, **fields: Any) -> Any:
    out_dir = tmp_path / f"job-{uuid.uuid4().hex[:6]}"
    out_dir.mkdir()
    (out_dir / "report.html").write_text(
        "<!doctype html><title>Báo cáo</title><h1>Báo cáo liên kết</h1><svg></svg>", "utf-8"
    )
    pq.write_table(RESULTS, out_dir / "links.parquet")
    defaults = {
        "kind": "gplx",
        "dataset_name": "linkage/none.csv",
        "original_name": "gplx-dong-thap.csv",
        "dataset_size": 2048,
        "sha256": "0" * 64,
        "rows": 1500,
        "records": 1500,
        "linked": 1300,
        "review": 120,
        "unlinked": 80,
        "by_method": {"pin": 500, "probabilistic": 800},
        "created_by": "lamsach.test",
        "agency": agency(),
        "idempotency_key": uuid.uuid4().hex,
        "status": "done",
        "stage": "report",
        "out_dir": str(out_dir),
        "report": str(out_dir / "report.html"),
        "output": str(out_dir / "links.parquet"),
    }
    return LinkageJob.objects.create(**{**defaults, **fields})


# The per-record results: the sector's columns (one of them a would-be formula), then the answer.
RESULTS = pa.table(
    {
        "so_gplx": ["GPLX-1", "GPLX-2", "GPLX-3"],
        "ho_ten": ["Nguyễn Văn An", '=HYPERLINK("http://evil.example","xem")', "@SUM(A1)"],
        "linked_pin": ["087084000001", None, None],
        "candidate_pin": [None, "087084000002", None],
        "match_weight": [12.5, -1.25, None],
        "class": ["linked", "review", "unlinked"],
    }
)


def make_pair(job: Any, n: int, probability: float = 0.5) -> Any:
    return ReviewPair.objects.create(
        job=job,
        sector_id=f"GPLX-{n:04d}",
        pin=f"0870840{n:05d}",
        match_weight=1.5,
        probability=probability,
        record={
            "full_name": "Nguyen Van An",
            "birth_date": "12/05/1984",
            "sex": "M",
            "cmnd": "",
            "ward": "2025:29365",
            "address": "Ap 3",
        },
        citizen={
            "full_name": "Nguyễn Văn An",
            "birth_date": "12/05/1984",
            "sex": "M",
            "cmnd": "341234567",
            "ward": "2025:29365",
            "address": "Ấp 3",
        },
        contributions={"family": 3.0, "given": 5.1, "dob": 8.2, "sex": 0.3, "place": 1.2},
    )


# --- who may see the pages ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pages_need_a_signed_in_official_with_a_linkage_right(tmp_path: Path) -> None:
    jobs = reverse("backoffice:linkage_jobs")
    anonymous = Client().get(jobs)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("backoffice:login") + "?next=")

    job = make_job(tmp_path)
    pair = make_pair(job, 1)
    outsider = signed_in("canbo.khac", "registry.view_citizen")
    for url in (
        jobs,
        reverse("backoffice:linkage_job", args=[job.pk]),
        reverse("backoffice:linkage_report", args=[job.pk]),
        reverse("backoffice:linkage_review", args=[job.pk]),
        reverse("backoffice:linkage_pair", args=[pair.pk]),
    ):
        page = outsider.get(url)
        assert page.status_code == 403, url
        assert "được giao quyền" in page.content.decode()
        assert "linkage.run_linkage" not in page.content.decode()  # words, not the code
    assert outsider.get(reverse("backoffice:linkage_progress", args=[job.pk])).status_code == 403
    assert NAV_LINK not in outsider.get(jobs).content.decode()
    assert AccessLog.objects.count() == 0

    # A reviewer sees the jobs but not the start form, nor the per-record results.
    reviewer = signed_in("doisoat", *REVIEWER)
    listed = reviewer.get(jobs).content.decode()
    assert NAV_LINK in listed and 'id="start-form"' not in listed
    assert reviewer.get(reverse("backoffice:linkage_output", args=[job.pk])).status_code == 403
    for fmt in ("csv", "xlsx"):
        refused = reviewer.get(reverse("backoffice:linkage_results", args=[job.pk, fmt]))
        assert refused.status_code == 403
        assert "linkage.run_linkage" not in refused.content.decode()


# --- starting a job -----------------------------------------------------------------------------


def _key(page: str) -> str:
    found = re.search(r'name="idempotency_key" value="(\w+)"', page)
    assert found
    return found[1]


@pytest.mark.django_db
def test_an_official_starts_a_job_from_the_form_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = signed_in("lamsach.test", *RUNNER)
    form = client.get(reverse("backoffice:linkage_jobs")).content.decode()
    assert 'id="start-form"' in form and 'enctype="multipart/form-data"' in form
    key = _key(form)
    assert 'value="gplx"' in form and 'value="bhyt"' in form

    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            reverse("backoffice:linkage_jobs"),
            {"dataset": dataset_file(gplx_csv()), "kind": "gplx", "idempotency_key": key},
        )
    job = LinkageJob.objects.get()
    assert posted.status_code == 302
    assert posted["Location"] == reverse("backoffice:linkage_job", args=[job.pk])
    # The browser sends the form again (a double click, a retry): the same job.
    again = client.post(
        reverse("backoffice:linkage_jobs"),
        {"dataset": dataset_file(gplx_csv()), "kind": "gplx", "idempotency_key": key},
    )
    assert again["Location"] == posted["Location"] and LinkageJob.objects.count() == 1

    page = client.get(posted["Location"]).content.decode()
    assert "Đã nhận tệp" in page and "gplx.csv" in page and "Đang chờ" in page
    progress_url = reverse("backoffice:linkage_progress", args=[job.pk])
    assert f'data-url="{progress_url}"' in page
    assert re.search(r'<script src="[^"]*web/linkage-progress\.js" defer>', page)
    assert "<script>" not in page  # no inline script
    listed = client.get(reverse("backoffice:linkage_jobs")).content.decode()
    assert f'href="{posted["Location"]}"' in listed and _key(listed) != key


@pytest.mark.django_db
def test_a_refused_dataset_is_explained_beside_the_form_and_nothing_is_made() -> None:
    client = signed_in("lamsach.test", *RUNNER)
    key = _key(client.get(reverse("backoffice:linkage_jobs")).content.decode())
    url = reverse("backoffice:linkage_jobs")

    wrong = client.post(
        url, {"dataset": dataset_file(b"x", "gplx.xlsx"), "kind": "gplx", "idempotency_key": key}
    )
    assert wrong.status_code == 422
    assert "Chỉ nhận tệp .csv hoặc .parquet" in wrong.content.decode()
    assert _key(wrong.content.decode()) == key  # the same try, kept

    missing = client.post(
        url,
        {
            "dataset": dataset_file(gplx_csv(without="birth_date")),
            "kind": "gplx",
            "idempotency_key": key,
        },
    )
    page = missing.content.decode()
    assert missing.status_code == 422
    assert "Tệp dữ liệu không dùng được" in page and "ngay_sinh" in page
    assert "govuk-error-summary" in page

    columns = client.post(
        url,
        {
            "dataset": dataset_file(gplx_csv()),
            "kind": "gplx",
            "columns": "ngay sinh",
            "idempotency_key": key,
        },
    )
    assert columns.status_code == 422 and "trường=cột" in columns.content.decode()
    assert LinkageJob.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="linkage.").exists()


# --- following a job ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_progress_endpoint_follows_the_job(tmp_path: Path) -> None:
    job = make_job(tmp_path, status="running", stage="predict", done=1, total=4, report="")
    client = signed_in("doisoat", *REVIEWER)
    url = reverse("backoffice:linkage_progress", args=[job.pk])

    running = client.get(url)
    assert running["Cache-Control"] == "private, no-store"
    assert running.json() == {
        "id": job.pk,
        "status": "running",
        "status_label": "Đang chạy",
        "stage": "predict",
        "stage_label": "Chấm điểm các cặp",
        "done": 1,
        "total": 4,
        "percent": 25,
        "finished": False,
        "error": "",
    }
    page = client.get(reverse("backoffice:linkage_job", args=[job.pk])).content.decode()
    assert 'id="progress"' in page and 'value="25"' in page and 'id="results"' not in page

    LinkageJob.objects.filter(pk=job.pk).update(status="failed", error="RuntimeError: disk full")
    failed = client.get(url).json()
    assert failed["finished"] and failed["error"] == "RuntimeError: disk full"
    page = client.get(reverse("backoffice:linkage_job", args=[job.pk])).content.decode()
    assert 'id="progress"' not in page and "RuntimeError: disk full" in page

    assert 'id="resume-form"' not in page  # a reviewer does not run jobs
    runner = signed_in("lamsach.test", *RUNNER)
    assert (
        'id="resume-form"'
        in runner.get(reverse("backoffice:linkage_job", args=[job.pk])).content.decode()
    )
    resumed = runner.post(reverse("backoffice:linkage_resume", args=[job.pk]), follow=True)
    assert "Đã xếp lượt chạy lại" in resumed.content.decode()
    assert LinkageJob.objects.get(pk=job.pk).status == "queued"
    again = runner.post(reverse("backoffice:linkage_resume", args=[job.pk]), follow=True)
    assert "Chỉ chạy lại lượt bị lỗi" in again.content.decode()

    LinkageJob.objects.filter(pk=job.pk).update(status="done")
    assert client.get(url).json()["percent"] == 100
    assert client.get(reverse("backoffice:linkage_progress", args=[job.pk + 1])).status_code == 404


@pytest.mark.django_db
def test_a_finished_job_shows_its_results_report_and_download(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    make_pair(job, 1)
    client = signed_in("lamsach.test", *RUNNER)
    page = client.get(reverse("backoffice:linkage_job", args=[job.pk])).content.decode()
    assert re.search(r'id="linked">1.300<', page) and re.search(r'id="review">120<', page)
    assert "Mô hình xác suất" in page and "probabilistic" not in page
    assert "1 cặp cần xem, 1 đang chờ" in page
    assert reverse("backoffice:linkage_results", args=[job.pk, "xlsx"]) in page
    assert reverse("backoffice:linkage_report", args=[job.pk]) in page
    assert reverse("backoffice:linkage_output", args=[job.pk]) in page

    report = client.get(reverse("backoffice:linkage_report", args=[job.pk]))
    assert report.status_code == 200 and report["Content-Type"] == "text/html; charset=utf-8"
    assert "Báo cáo liên kết" in report.getvalue().decode()
    policy = report["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    assert report["X-Content-Type-Options"] == "nosniff"

    output = client.get(reverse("backoffice:linkage_output", args=[job.pk]))
    assert output.status_code == 200
    assert output["Content-Disposition"].startswith("attachment")
    assert f"lien-ket-gplx-{job.pk}.parquet" in output["Content-Disposition"]

    # Only files inside the job's own folder are ever served.
    elsewhere = tmp_path / "secret.html"
    elsewhere.write_text("secret")
    LinkageJob.objects.filter(pk=job.pk).update(report=str(elsewhere))
    assert client.get(reverse("backoffice:linkage_report", args=[job.pk])).status_code == 404


# --- review -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_queue_pages_pending_pairs_in_constant_queries(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    for n in range(5):
        make_pair(job, n, probability=0.1 * (n + 1))
    client = signed_in("doisoat", *REVIEWER)
    url = reverse("backoffice:linkage_review", args=[job.pk])
    client.get(url)  # sessions, permissions warmed up
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert page.index("GPLX-0004") < page.index("GPLX-0000")  # most likely first
    assert "Nguyễn Văn An" not in page  # the registry's side is only shown pair by pair
    for n in range(5, 80):
        make_pair(job, n)
    with CaptureQueriesContext(connection) as many:
        second = client.get(url + "?page=2").content.decode()
    assert len(many) == len(few)
    assert "Trang 2 / 2" in second and 'rel="prev"' in second
    assert AccessLog.objects.count() == 0


@pytest.mark.django_db
def test_a_reviewer_decides_pairs_side_by_side(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    first, second = make_pair(job, 1, probability=0.9), make_pair(job, 2, probability=0.4)
    client = signed_in("doisoat", *REVIEWER)

    page = client.get(reverse("backoffice:linkage_pair", args=[first.pk])).content.decode()
    assert "Nguyen Van An" in page and "Nguyễn Văn An" in page and "341234567" in page
    assert re.search(r'id="field-full_name">.*?<td[^>]*>8,10</td>', page, re.S)
    assert '<th scope="col" class="govuk-table__header"></th>' not in page  # no empty header
    assert "2025:29365" not in page and ">Nam" in page  # the ward by its name, the sex in words
    assert 'id="weight-dob"' in page and "csrfmiddlewaretoken" in page
    assert 'name="version" value="1"' in page
    log = AccessLog.objects.get()
    assert (log.subject_pin, log.actor) == (first.pin, "official:doisoat")

    url = reverse("backoffice:linkage_decide", args=[first.pk])
    confirmed = client.post(url, {"decision": "confirmed", "version": 1, "note": "cùng người"})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("backoffice:linkage_pair", args=[second.pk])
    first.refresh_from_db()
    assert (first.decision, first.decided_by, first.version) == ("confirmed", "official:doisoat", 2)
    assert AuditEntry.objects.filter(action="linkage.review_decide").count() == 1

    # The page another official opened before the decision: refused, with the reason.
    stale = client.post(url, {"decision": "rejected", "version": 1})
    assert stale.status_code == 409
    assert "hãy tải lại trang" in stale.content.decode()
    decided = client.get(reverse("backoffice:linkage_pair", args=[first.pk])).content.decode()
    assert 'id="decide-form"' not in decided and "cùng người" in decided

    last = client.post(
        reverse("backoffice:linkage_decide", args=[second.pk]),
        {"decision": "rejected", "version": 1},
        follow=True,
    )
    assert last.redirect_chain[-1][0] == reverse("backoffice:linkage_review", args=[job.pk])
    assert "Đã đối soát hết các cặp" in last.content.decode()
    assert ReviewPair.objects.get(pk=second.pk).decision == "rejected"

    forged = official_client(User.objects.get(username="doisoat"), enforce_csrf_checks=True)
    assert forged.post(url, {"decision": "rejected", "version": 2}).status_code == 403


# --- each agency's jobs, and who downloaded what ------------------------------------------------


@pytest.mark.django_db
def test_attack_official_of_another_agency_opens_its_linkage_job_is_refused(
    tmp_path: Path,
) -> None:
    """An official with every linkage right, of another agency, finds nothing of the job: not
    in the list, 404 for its pages, files, pairs and decisions; nothing read, nothing changed."""
    job = make_job(tmp_path, status="failed")
    LinkageJob.objects.filter(pk=job.pk).update(status="done")
    pair = make_pair(job, 1)
    other = signed_in("lamsach.khac", *RUNNER, of="H30.CA.TEST")
    listed = other.get(reverse("backoffice:linkage_jobs"))
    assert listed.status_code == 200
    assert reverse("backoffice:linkage_job", args=[job.pk]) not in listed.content.decode()
    for url in (
        reverse("backoffice:linkage_job", args=[job.pk]),
        reverse("backoffice:linkage_progress", args=[job.pk]),
        reverse("backoffice:linkage_report", args=[job.pk]),
        reverse("backoffice:linkage_output", args=[job.pk]),
        reverse("backoffice:linkage_output", args=[job.pk]) + "?dinh-dang=csv",
        reverse("backoffice:linkage_review", args=[job.pk]),
        reverse("backoffice:linkage_pair", args=[pair.pk]),
    ):
        assert other.get(url).status_code == 404, url
    decided = other.post(
        reverse("backoffice:linkage_decide", args=[pair.pk]),
        {"decision": "confirmed", "version": 1},
    )
    assert decided.status_code == 404
    LinkageJob.objects.filter(pk=job.pk).update(status="failed")
    assert other.post(reverse("backoffice:linkage_resume", args=[job.pk])).status_code == 404
    assert LinkageJob.objects.get(pk=job.pk).status == "failed"
    assert ReviewPair.objects.get(pk=pair.pk).decision == "pending"
    assert AccessLog.objects.count() == 0

    # The job's own agency still sees all of it.
    LinkageJob.objects.filter(pk=job.pk).update(status="done")
    own = signed_in("lamsach.test", *RUNNER)
    assert own.get(reverse("backoffice:linkage_job", args=[job.pk])).status_code == 200
    assert own.get(reverse("backoffice:linkage_pair", args=[pair.pk])).status_code == 200


@pytest.mark.django_db
def test_attack_unlogged_download_of_linkage_results_is_refused(tmp_path: Path) -> None:
    """Downloading the results leaves a row in the access log of each citizen they name."""
    job = make_job(tmp_path)
    client = signed_in("lamsach.test", *RUNNER)
    for suffix in ("", "?dinh-dang=csv"):
        response = client.get(reverse("backoffice:linkage_output", args=[job.pk]) + suffix)
        assert response.status_code == 200
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = AccessLog.objects.order_by("subject_pin", "pk")
    assert [(r.subject_pin, r.actor) for r in rows] == [
        ("087084000001", "official:lamsach.test"),
        ("087084000001", "official:lamsach.test"),
        ("087084000002", "official:lamsach.test"),
        ("087084000002", "official:lamsach.test"),
    ]
    assert all(f"lượt {job.pk}" in r.purpose for r in rows)


@pytest.mark.django_db
def test_attack_formula_in_a_sector_record_is_escaped_in_the_csv_download(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    client = signed_in("lamsach.test", *RUNNER)
    response = client.get(reverse("backoffice:linkage_output", args=[job.pk]) + "?dinh-dang=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"lien-ket-gplx-{job.pk}.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["ho_ten"] for r in rows] == [
        "Nguyễn Văn An",
        '\'=HYPERLINK("http://evil.example","xem")',
        "'@SUM(A1)",
    ]
    assert [r["linked_pin"] for r in rows] == ["087084000001", "", ""]
    assert rows[1]["match_weight"] == "-1.25"  # a number, not text a spreadsheet would run
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_job_page_follows_the_progress_and_shows_the_results_when_done(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    job = make_job(tmp_path, status="running", stage="features", done=0, total=100)
    device = authenticator(staff("lamsach.test", *RUNNER))
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + reverse("backoffice:linkage_job", args=[job.pk]))
    page.get_by_label("Tên đăng nhập").fill("lamsach.test")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_label("Mã xác thực").fill(code_now(device))
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#progress [data-stage]")).to_have_text("Chuẩn hoá dữ liệu")

    LinkageJob.objects.filter(pk=job.pk).update(stage="predict", done=3, total=4)
    expect(page.locator("#progress [data-percent]")).to_have_text("75")
    expect(page.locator("#progress [data-stage]")).to_have_text("Chấm điểm các cặp")
    LinkageJob.objects.filter(pk=job.pk).update(status="done", stage="report")
    expect(page.locator("#linked")).to_have_text("1.300")
    expect(page.locator("#progress")).to_have_count(0)
    context.close()
