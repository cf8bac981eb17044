"""The Content-Security-Policy (motcua.core.csp) in Chromium: no page of the provider, the
portal, the back office, the admin or the API docs breaks it, and the consent form still
reaches the relying party (Chromium checks form-action on the redirect that follows a form)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from motcua.identity.tests.factories import (
    BANK_REDIRECT,
    PASSWORD,
    Person,
    authorize_url,
    make_party,
    make_person,
    pkce_pair,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAGES = ["/", "/thu-tuc/", "/id/dang-nhap/", "/id/dang-ky/", "/can-bo/dang-nhap/", "/admin/login/"]


def _sign_in_and_allow(page: Page, site: str, url: str, person: Person) -> None:
    page.goto(site + url)
    page.get_by_label("Số định danh cá nhân").fill(person.pin)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    page.get_by_role("button", name="Đồng ý", exact=True).click()


def test_pages_keep_the_policy_in_chromium_and_consent_still_reaches_the_party(
    site: str, browser: Browser, settings: Any
) -> None:
    """No page breaks its own policy (Chromium reports every refused style or script on the
    console); the consent form, posted to the provider and redirected to the relying party,
    arrives there: Chromium checks form-action on that redirect, so without the party's origin
    in form-action it stays on the consent page."""
    bank = make_party()
    bank_page = re.compile(re.escape(BANK_REDIRECT) + r"\?code=")

    def fresh() -> tuple[Page, list[str]]:
        context = browser.new_context(locale="vi-VN")
        context.set_default_timeout(10_000)
        context.route(
            "https://nganhang.example/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>OK</h1>"),
        )
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page, refused

    page, refused = fresh()
    for path in [*PAGES, "/api/docs"]:
        response = page.goto(site + path)
        assert response is not None and "content-security-policy" in response.headers
    page.goto(site + "/api/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    _, challenge = pkce_pair()
    _sign_in_and_allow(page, site, authorize_url(bank.client_id, challenge), make_person())
    expect(page).to_have_url(bank_page)
    for path in ["/id/tai-khoan/", "/id/tai-khoan/ai-da-xem/", "/id/tai-khoan/xac-thuc/"]:
        page.goto(site + path)  # the account's own pages (the last one shows a QR code)
    assert refused == []

    # The same journey with form-action left at the platform alone: Chromium refuses the
    # redirect to the party (which is why motcua.core.csp adds the parties' origins).
    settings.CSP_RELYING_PARTY_PATHS = ()
    page, refused = fresh()
    _sign_in_and_allow(page, site, authorize_url(bank.client_id, challenge), make_person())
    page.wait_for_timeout(1000)
    assert not bank_page.match(page.url)
    assert any("form-action" in text for text in refused), refused
