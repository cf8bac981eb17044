"""The back office on a phone (issue 14): at 390 px no page of the official's and the clerk's
work is wider than the screen; wide tables scroll inside their own box."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from motcua.dossiers.tests.factories import (
    agencies_ready,
    agency_of,
    catalog_ready,
    make_official,
    submit,
)
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import official_client
from motcua.web.tests.test_backoffice_linkage import RUNNER, make_job, make_pair, staff

PHONE = 390
# Set MOTCUA_SHOTS_DIR to a folder to keep a screenshot of each page (to look at them).
SHOTS = os.environ.get("MOTCUA_SHOTS_DIR", "")


@pytest.fixture(autouse=True)
def _linkage_dir(settings: Any, tmp_path: Path) -> None:
    settings.LINKAGE_DIR = tmp_path / "jobs"


def _width(
    browser: Browser, live_server: LiveServer, user: User, paths: list[str]
) -> dict[str, int]:
    session = official_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="vi-VN")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    widths = {}
    for path in paths:
        page.goto(live_server.url + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
        if SHOTS:
            name = path.strip("/").replace("/", "_") or "root"
            page.screenshot(path=str(Path(SHOTS) / f"{name}-{PHONE}.png"), full_page=True)
    context.close()
    return widths


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_back_office_page_is_wider_than_a_phone(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    catalog_ready()
    commune = agency_of("commune", agencies_ready()[0])
    done = submit(make_citizen(full_name="Nguyễn Thị Phương Thảo Dài Tên"), commune)
    make_official("hotich.rong", commune, "receiver", "approver", "clerk")
    official = User.objects.get(username="hotich.rong")
    widths = _width(
        browser,
        live_server,
        official,
        [
            reverse("backoffice:start"),
            reverse("backoffice:queue", args=[commune.pk]),
            reverse("backoffice:dossier", args=[done.id]),
        ],
    )
    job = make_job(tmp_path)
    wide = "".join(f"<td>{'cột-dữ-liệu-rất-dài-' * 3}{n}</td>" for n in range(12))
    Path(job.report).write_text(  # a report as wide as the engine's, with a wide chart
        '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Báo cáo</title>'
        f'<table><tr>{wide}</tr></table><svg width="980" height="200" viewBox="0 0 980 200">'
        '<rect width="980" height="200"/></svg>',
        "utf-8",
    )
    pair = make_pair(job, 1)
    clerk = staff("lamsach.rong", *RUNNER)
    widths |= _width(
        browser,
        live_server,
        clerk,
        [
            reverse("backoffice:linkage_jobs"),
            reverse("backoffice:linkage_job", args=[job.pk]),
            reverse("backoffice:linkage_report", args=[job.pk]),
            reverse("backoffice:linkage_review", args=[job.pk]),
            reverse("backoffice:linkage_pair", args=[pair.pk]),
        ],
    )
    assert {path: w for path, w in widths.items() if w > PHONE} == {}
