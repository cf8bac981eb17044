"""Fixtures shared by every app's tests: a real browser for pages.

Playwright drives Debian's Chromium (``make setup`` installs it); Playwright's own browser
download is not used. Each test gets its own browser, and ``page`` a fresh context (cookies,
storage) in it, with Vietnamese as the browser's language::

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_home(live_server: LiveServer, page: Page) -> None:
        page.goto(live_server.url + "/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Motcua")

Tests that use ``page`` or ``browser`` are marked ``browser`` (``pytest -m "not browser"``)
and get a transactional database with serialized rollback even without the marker above.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from motcua.web.journeys import CHROMIUM, CHROMIUM_ARGS

TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def browser(
    transactional_db: None, django_db_serialized_rollback: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browser]:
    """Chromium for one test, started after the test database is set up, stopped before it is
    flushed.

    Sync Playwright marks its asyncio loop as running in this thread for as long as it is
    started. Django then takes the thread for async code: its async-safety check refuses ORM
    calls, and its connections (thread-critical asgiref locals) are other objects than the
    ones the test database was set up with, so a session-wide browser would silently skip
    the serialized rollback and wipe the migrations' geo data. Hence one browser per test,
    inside the database fixtures; the test's own ORM calls work, on connections of their own
    that are closed here.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make setup` (apt-get install chromium)")
    with sync_playwright() as playwright:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            connections.close_all()
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context, as a Vietnamese citizen's browser (Accept-Language: vi)."""
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    """pytest-django's admin client, past the second factor the admin asks of every official."""
    client = Client()
    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def site(live_server: LiveServer, settings: Any) -> str:
    """The provider and the portal at the live server's address (the issuer, the portal's
    callback and the passkeys' relying party all follow it)."""
    settings.PUBLIC_URL = live_server.url
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": live_server.url + "/o",
    }
    return str(live_server.url)
