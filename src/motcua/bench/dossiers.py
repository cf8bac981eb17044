"""`motcua bench dossiers`: with a million dossiers in the database, citizens submitting a birth
registration with its hospital certificate through the real submit page (multipart, CSRF, portal
session) under a closed loop of concurrent clients; the back office's queue page of a commune
holding 50,000 open dossiers, over HTTP as a signed-in official; beside it, the bare SQL of the
queue (the count and the page query, timed alone), and the queries the whole page makes. Runs
inside a database of its own (see the bench command)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from importlib import import_module
from random import Random
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.bench.harness import median, percentile, running_server
from motcua.bench.load import PreparedRequest, load_run
from motcua.catalog.selectors import AgencyKind, AgencyView, Role, agencies_of_kind, agency_serving
from motcua.catalog.services import (
    Place,
    catalog_files,
    catalog_load,
    official_assign,
    province_agencies_ensure,
)
from motcua.core.actors import SYSTEM, Actor
from motcua.core.documents import Document, document_pdf
from motcua.dossiers.seed import dossiers_load
from motcua.dossiers.selectors import dossier_queue
from motcua.geo.selectors import unit_get, wards_of
from motcua.registry.seed import population_load
from motcua.registry.selectors import household_heads
from motcua.web.backoffice import QueueForm
from motcua.web.citizen import DRAFT_PARAM
from motcua.web.portal import SESSION_KEY, acr_name

PROVINCE = "2025:82"
BIRTH = "1.001193"  # Đăng ký khai sinh: one upload, the hospital's birth certificate
UPLOAD = "giay_chung_sinh"
OFFICIAL = "bench.canbo"
PASSWORD = "Mat-khau-bench-2026"  # noqa: S105 - a throwaway account in the bench database
MARKER = b"@@@@@@@@@@@@"  # replaced by a fresh number at every send: one idempotency key each
BOUNDARY = "----MotcuaBenchBoundary7MA4YWxkTrZu0gW"
SQL_REPEATS = 50
PAGE_SIZES = (20, 50, 100)


def run(
    *,
    dossiers: int,
    open_in_agency: int,
    citizens: int,
    seed: int,
    duration_s: float,
    connections: int,
    submitters: int,
    queue_requests: int,
    workers: int,
    threads: int,
    database_url: str,
) -> dict[str, Any]:
    started = time.perf_counter()
    _log(f"loading {citizens:,} citizens ...")
    population_load(citizens, province_key=PROVINCE, seed=seed)
    citizens_s = time.perf_counter() - started
    busy = _agencies()
    actor = _official(busy)
    _log(f"loading {dossiers:,} dossiers, {open_in_agency:,} open at {busy.code} ...")
    started = time.perf_counter()
    dossiers_load(
        dossiers,
        agencies=[a.id for kind in AgencyKind.values for a in agencies_of_kind(kind)],
        open_in={busy.id: open_in_agency},
        seed=seed,
        progress=_progress(dossiers),
    )
    load_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    views = _queue_views(actor, busy)
    queries = _queue_queries(busy)
    _log("the queue's bare SQL ...")
    sql_ms = _queue_sql(actor, busy, views)
    with _private_media(), running_server(database_url, workers=workers, threads=threads) as base:
        _log(f"queue page: {queue_requests} requests as an official ...")
        queue_ms, by_view = _queue_pages(base, busy, views, queue_requests)
        _log(f"submissions: {connections} clients for {duration_s:.0f} s ...")
        # Idempotency keys are 32 hex digits: 20 of this run, then the marker's 12 digits.
        key_prefix = secrets.token_hex(10)
        requests = _submissions(base, _submitters(submitters, seed), key_prefix)
        submit = load_run(
            base,
            requests,
            connections=connections,
            duration_s=duration_s,
            ok_statuses={302},
            ok_location="/ho-so/",  # the confirmation's redirect to the new dossier
            unique=MARKER,
        )
    created = _created(key_prefix)
    if submit.ok == 0 or created < submit.ok:
        raise RuntimeError(
            f"submissions: {submit.ok} redirects to a dossier but {created} dossiers created; "
            f"errors {submit.errors_by_status}, wrong redirects {submit.wrong_redirects}"
        )
    return {
        "dossiers": dossiers,
        "submit_rps": round(submit.ok / submit.duration_s, 1),
        "submit_p95_ms": round(submit.p95_ms, 1),
        "queue_p95_ms": percentile(queue_ms, 95),
        "queue_sql_ms": median(sql_ms),
        "queue_queries": max(queries.values()),
        "submit_p50_ms": round(submit.p50_ms, 1),
        "submit_p99_ms": round(submit.p99_ms, 1),
        "submit_errors": submit.errors,
        "submit_errors_by_status": submit.errors_by_status,
        "submit_created": created,
        "queue_p50_ms": median(queue_ms),
        "queue_ms_by_view": by_view,
        "queue_sql_p95_ms": percentile(sql_ms, 95),
        "queue_queries_by_page_size": queries,
        "open_in_agency": open_in_agency,
        "citizens": citizens,
        "load_s": round(load_s, 1),
        "load_rate": round(dossiers / load_s),
        "citizens_load_s": round(citizens_s, 1),
        "server": f"gunicorn gthread {workers}x{threads}",
        "connections": connections,
        "submitters": submitters,
        "load_generator_cpu_share": round(submit.cpu_share, 2),
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(total: int) -> Callable[[int], None]:
    """A line at each tenth of the load."""
    marks = [total * k // 10 for k in range(1, 11)]

    def report(done: int) -> None:
        if marks and done >= marks[0]:
            _log(f"  {done:,} / {total:,} dossiers")
        while marks and done >= marks[0]:
            marks.pop(0)

    return report


# --- set-up ------------------------------------------------------------------------------------


def _agencies() -> AgencyView:
    """The catalog, the province's agencies; the People's Committee of its first ward."""
    procedures, workflows = catalog_files()
    catalog_load(
        actor=SYSTEM, procedures=procedures["procedures"], workflows=workflows["workflows"]
    )
    province = unit_get(PROVINCE)
    assert province is not None
    wards = [Place(w.key, w.code, w.name) for w in wards_of(PROVINCE)]
    province_agencies_ensure(
        actor=SYSTEM, province=Place(province.key, province.code, province.name), wards=wards
    )
    busy = agency_serving(AgencyKind.COMMUNE, [wards[0].key])
    assert busy is not None
    return busy


def _official(agency: AgencyView) -> Actor:
    """A staff user holding every role at the agency."""
    user = get_user_model().objects.create_user(username=OFFICIAL, password=PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=user, name="bench", confirmed=True)  # the second factor
    for role in Role.values:
        official_assign(actor=SYSTEM, username=OFFICIAL, agency_code=agency.code, role=role)
    return Actor.from_user(user)


@contextmanager
def _private_media() -> Iterator[None]:
    """The server stores the uploads in a folder of the run's own, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="motcua-bench-dossiers-")
    previous = os.environ.get("MOTCUA_PRIVATE_MEDIA_ROOT")
    os.environ["MOTCUA_PRIVATE_MEDIA_ROOT"] = folder
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MOTCUA_PRIVATE_MEDIA_ROOT", None)
        else:
            os.environ["MOTCUA_PRIVATE_MEDIA_ROOT"] = previous
        shutil.rmtree(folder, ignore_errors=True)


# --- the queue ---------------------------------------------------------------------------------


def _queue_views(actor: Actor, agency: AgencyView) -> dict[str, str]:
    """What officials open: pages of the whole queue, the filters, a search by receipt code."""
    first = dossier_queue(
        actor=actor, agency_id=agency.id, chosen=QueueForm().chosen()[0], page=1, page_size=50
    )
    return {
        "page1": "",
        "page2": "?page=2",
        "page20": "?page=20",
        "last_page": f"?page={first.pages}",
        "size20": "?size=20",
        "size100": "?size=100",
        "overdue": "?overdue=on",
        "overdue_page2": "?overdue=on&page=2",
        "due_soon": "?due_soon=on",
        "procedure": f"?procedure={BIRTH}",
        "status": "?status=processing",
        "code": f"?q={first.rows[len(first.rows) // 2].code}",
    }


def _authenticator() -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.get(user__username=OFFICIAL, confirmed=True)
    return device


def _code_now(device: TOTPDevice) -> str:
    """The code the official's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def _queue_url(agency: AgencyView, query: str) -> str:
    return f"/can-bo/co-quan/{agency.id}/{query}"


def _queue_queries(agency: AgencyView) -> dict[int, int]:
    """Queries of the whole page (session, user, roles, count, rows ...) per page size."""
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=OFFICIAL))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = _authenticator().persistent_id  # past the second factor
    session.save()
    counts = {}
    for size in (50, *PAGE_SIZES):  # the first request warms the caches
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(_queue_url(agency, f"?size={size}"))
        if answer.status_code != 200:
            raise RuntimeError(f"queue page answered {answer.status_code}")
        counts[size] = len(captured.captured_queries)
    return counts


def _queue_sql(actor: Actor, agency: AgencyView, views: dict[str, str]) -> list[float]:
    """Milliseconds of the queue's own SQL (the count and the page of rows) for each view, as
    `dossier_queue` sends it, run again alone on a raw cursor."""
    statements = []
    for query in views.values():
        asked = QueryDict(query.removeprefix("?"))
        form = QueueForm(asked)
        form.is_valid()
        chosen, size = form.chosen()
        page = int(asked.get("page", 1))
        with CaptureQueriesContext(connection) as captured:
            dossier_queue(
                actor=actor, agency_id=agency.id, chosen=chosen, page=page, page_size=size
            )
        statements.append(
            [q["sql"] for q in captured.captured_queries if '"dossiers_dossier"' in q["sql"]]
        )
    samples = []
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        for view in statements:
            for repeat in range(SQL_REPEATS + 1):
                start = time.perf_counter()
                for statement in view:
                    cursor.execute(statement)
                    cursor.fetchall()
                if repeat:  # the first run warms the cache
                    samples.append((time.perf_counter() - start) * 1000)
    return samples


def _queue_pages(
    base: str, agency: AgencyView, views: dict[str, str], requests: int
) -> tuple[list[float], dict[str, float]]:
    """The queue page over HTTP, one request at a time, the views in turn."""
    browser = httpx.Client(base_url=base, timeout=60)
    browser.get("/can-bo/dang-nhap/")
    answer = browser.post(
        "/can-bo/dang-nhap/",
        data={
            "username": OFFICIAL,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
    )
    if answer.status_code == 302 and "ma-xac-thuc" in answer.headers["location"]:
        answer = browser.post(  # the second step: the authenticator's code
            answer.headers["location"],
            data={
                "code": _code_now(_authenticator()),
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
        )
    if answer.status_code != 302:
        raise RuntimeError(f"official sign-in failed ({answer.status_code})")
    names = list(views)
    for name in names:  # warm-up: each view once
        browser.get(_queue_url(agency, views[name]))
    samples: dict[str, list[float]] = {name: [] for name in names}
    every = []
    for i in range(requests):
        name = names[i % len(names)]
        start = time.perf_counter()
        answer = browser.get(_queue_url(agency, views[name]))
        elapsed = (time.perf_counter() - start) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"queue page {views[name]!r} answered {answer.status_code}")
        samples[name].append(elapsed)
        every.append(elapsed)
    browser.close()
    return every, {name: median(ms) for name, ms in samples.items() if ms}


# --- submissions -------------------------------------------------------------------------------


def _submitters(n: int, seed: int) -> list[tuple[str, str]]:
    """Mothers registering their child's birth: women heads of households (the PIN's fourth
    digit is odd for a woman), as the registry checks the mother's PIN against her sex."""
    heads = household_heads(limit=max(n * 10, 2000))
    women = [(pin, name) for pin, name in heads if int(pin[3]) % 2 == 1]
    return Random(seed).sample(women, min(n, len(women)))


def _portal_session(pin: str, name: str) -> str:
    """A portal session as a level-2 e-ID sign-in leaves it (a birth registration needs level
    2), written straight to the session store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = {"sub": f"bench-{pin}", "pin": pin, "name": name, "acr": acr_name(2)}
    store.create()
    return str(store.session_key)


def _certificate() -> bytes:
    return document_pdf(
        Document(
            authority="BỆNH VIỆN ĐA KHOA TỈNH ĐỒNG THÁP",
            title="GIẤY CHỨNG SINH",
            reference="Số: 1234/GCS",
            rows=[
                ("Họ tên mẹ", "Nguyễn Thị Lan"),
                ("Sinh con lúc", "08 giờ 15 phút"),
                ("Giới tính", "Nữ"),
                ("Cân nặng", "3.200 gam"),
            ],
        )
    )


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
AGENCY_SELECTED = re.compile(r'<option value="(\d+)" selected>')


def _submissions(
    base: str, people: list[tuple[str, str]], key_prefix: str
) -> list[PreparedRequest]:
    """One prepared journey per citizen, as the portal files a dossier: the form (a multipart POST
    with the declaration and the certificate, answered by a redirect to "check your answers"),
    then the confirmation on that page (answered by a redirect to the new dossier). Each carries
    their session cookie and CSRF token (from opening the form once, as a browser would) and
    their commune as the form proposes it; the draft's idempotency key ends in the load
    generator's marker, the same number in both steps."""
    pdf = _certificate()
    born = timezone.localdate() - timedelta(days=3)

    def prepare(person: tuple[str, str]) -> PreparedRequest:
        pin, name = person
        session = _portal_session(pin, name)
        with httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=60) as browser:
            form = browser.get(f"/thu-tuc/{BIRTH}/nop/")
            if form.status_code != 200:
                raise RuntimeError(f"submit form answered {form.status_code} for {pin}")
            token = CSRF_FIELD.search(form.text)
            agency = AGENCY_SELECTED.search(form.text)
            cookie = browser.cookies["csrftoken"]
        if token is None or agency is None:
            raise RuntimeError("the submit form has no CSRF token or no proposed agency")
        fields = {
            "csrfmiddlewaretoken": token[1],
            "idempotency_key": key_prefix + MARKER.decode(),
            "agency_id": agency[1],
            "ho_ten_tre": "Nguyễn Ngọc Bảo Anh",
            "gioi_tinh": "F",
            "ngay_sinh_0": str(born.day),  # day / month / year, as the form asks
            "ngay_sinh_1": str(born.month),
            "ngay_sinh_2": str(born.year),
            "noi_sinh": "Bệnh viện Đa khoa tỉnh Đồng Tháp",
            "dan_toc": "Kinh",
            "que_quan": "Đồng Tháp",
            "me_pin": pin,
            "quan_he_nguoi_yeu_cau": "me",
        }
        body = _multipart(fields, {f"file_{UPLOAD}": ("giay-chung-sinh.pdf", pdf)})
        if body.count(MARKER) != 1:
            raise RuntimeError("the idempotency marker must occur once in a request")
        cookies = f"sessionid={session}; csrftoken={cookie}"
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Cookie": cookies}
        confirm = urlencode({"csrfmiddlewaretoken": token[1], DRAFT_PARAM: key_prefix}).encode()
        confirm += MARKER
        check = PreparedRequest(
            "POST",
            f"/thu-tuc/{BIRTH}/nop/kiem-tra/",
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies},
            confirm,
        )
        return PreparedRequest("POST", f"/thu-tuc/{BIRTH}/nop/", headers, body, then=check)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(prepare, people))


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        parts.append(
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _created(key_prefix: str) -> int:
    """Dossiers the run filed (warm-up and the last in-flight ones included)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM dossiers_dossier WHERE idempotency_key LIKE %s",
            [key_prefix + "%"],
        )
        return int(cursor.fetchone()[0])
