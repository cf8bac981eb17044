"""The portal in a real browser (Chromium through Playwright) against a live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect
from pytest_django.live_server_helper import LiveServer

# A live server needs committed data, so transactional tests; serialized_rollback keeps the
# administrative units that migrations load for the tests that run after these. Restoring them
# costs some seconds per test: prefer one journey per test over many small browser tests.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_home_page_is_vietnamese_and_its_links_work(live_server: LiveServer, page: Page) -> None:
    static: list[Response] = []
    page.on("response", lambda r: static.append(r) if "/static/" in r.url else None)

    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile("Motcua"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Motcua")
    # A service start page: the search first, the sign-in, popular services, once-only.
    expect(page.get_by_label("Tìm thủ tục hành chính")).to_be_visible()
    expect(
        page.get_by_role("button", name="Đăng nhập bằng tài khoản định danh điện tử")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Chỉ cung cấp thông tin một lần")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Tra cứu hồ sơ bằng mã biên nhận"))
    ).to_be_visible()

    # Officials' link: the admin sign-in page, in Vietnamese, with its static files served.
    page.get_by_role("link", name="Quản trị dữ liệu dân cư").click()
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    expect(page.get_by_label("Tên đăng nhập")).to_be_visible()
    assert any(r.url.endswith(".css") for r in static), "the admin page loaded no stylesheet"
    assert [r.url for r in static if r.status != 200] == []

    # Health link: JSON with the database status, as the browser receives it.
    page.go_back()
    with page.expect_response(live_server.url + "/healthz") as health:
        page.get_by_role("link", name="Tình trạng hệ thống").click()
    assert health.value.status == 200
    assert health.value.json() == {"status": "ok", "database": "ok"}
    expect(page).to_have_url(live_server.url + "/healthz")
