"""The people of the linked-package journeys in a real browser: a married couple in one
household (dossiers.tests.family) with e-ID accounts of level 2, and at each agency of their
ward one official who holds every role (so that each signs in once); signing in as each of
them; the background queue run as `motcua procrastinate worker` runs it; an official taking a
dossier from their queue to its result, or refusing it, by the back office's buttons."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyotp
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Browser, Page, expect
from procrastinate.contrib.django import app

from motcua.catalog.selectors import AgencyKind, Role
from motcua.core.actors import SYSTEM
from motcua.core.documents import Document, document_pdf
from motcua.dossiers.tests.factories import agency_of, make_official
from motcua.dossiers.tests.family import Family, family_ready
from motcua.identity.services import account_create
from motcua.identity.tests.factories import PASSWORD, Person
from motcua.web.tests.staff import authenticator, code_now

OFFICIAL_PASSWORD = "x-test-password-1"  # what make_official sets
# The order an official takes a dossier to its result; a step the workflow (or the dossier's
# status) does not offer is not on the page and is passed over.
HAPPY_PATH = ("receive", "assign", "start", "approve", "issue_result")
CONFIRMED = ("approve", "reject", "refuse")
QUEUES = ["packages"]  # the saga's queue only: the hourly offers scan is not run by accident


@dataclass(frozen=True)
class Town:
    family: Family
    mother: Person  # the e-ID logins of the couple
    father: Person
    officials: dict[str, str]  # agency kind → the username of its one official


def login_of(citizen: Any) -> Person:
    """A level-2 e-ID account (password and an authenticator app) for a citizen on record."""
    _account, secret = account_create(actor=SYSTEM, pin=citizen.pin, password=PASSWORD, level=2)
    return Person(citizen.pin, citizen.full_name, citizen.birth_date, secret)


def town_ready() -> Town:
    family = family_ready()
    world = family.world
    agencies = {
        AgencyKind.COMMUNE: world.commune,
        AgencyKind.COMMUNE_POLICE: world.police,
        AgencyKind.SOCIAL_INSURANCE: agency_of(AgencyKind.SOCIAL_INSURANCE),
        AgencyKind.LABOUR: agency_of(AgencyKind.LABOUR),
    }
    officials = {}
    for kind, agency in agencies.items():
        username = f"e2e.{kind}"
        make_official(username, agency, *Role.values)
        User.objects.filter(username=username).update(
            first_name="Cán bộ", last_name=str(AgencyKind(kind).label)
        )
        officials[str(kind)] = username
    return Town(family, login_of(family.mother), login_of(family.father), officials)


def pdf(tmp_path: Path, name: str, title: str) -> Path:
    """A real PDF, as the hospital's paper (a birth certificate, a death notice)."""
    path = tmp_path / name
    path.write_bytes(
        document_pdf(
            Document(authority="BỆNH VIỆN ĐA KHOA TỈNH", title=title, reference="Số: 12", rows=[])
        )
    )
    return path


def fill_date(page: Page, name: str, day: date) -> None:
    for part, value in enumerate((day.day, day.month, day.year)):
        page.locator(f'[name="{name}_{part}"]').fill(str(value))


# --- signing in ---------------------------------------------------------------------------------


def citizen_signs_in(page: Page, person: Person) -> None:
    """On the e-ID provider's pages, where the portal sent the browser: the password when it
    is asked, then the authenticator's code when the page needs level 2 (a page that needs
    only level 1 is reached after the password; a step-up to level 2 asks for the code)."""
    expect(page.locator('[name="pin"], [name="code"]').first).to_be_visible()
    if page.locator('[name="pin"]').count():
        login = page.locator("form", has=page.locator('[name="pin"]'))
        login.locator('[name="pin"]').fill(person.pin)
        login.locator('[name="password"]').fill(PASSWORD)
        with page.expect_navigation():
            login.locator('button[type="submit"]').click()
    if not page.locator('[name="code"]').count():
        return
    assert person.totp_secret
    second = page.locator("form", has=page.locator('[name="code"]'))
    second.locator('[name="code"]').fill(pyotp.TOTP(person.totp_secret).now())
    with page.expect_navigation():
        second.locator('button[type="submit"], button:not([type])').first.click()


def official_signs_in(browser: Browser, site: str, username: str) -> Page:
    """A browser context of the official's own (their cookies): the back office's sign-in,
    password then the authenticator's code; lands on what waits for them."""
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    page = context.new_page()
    device = authenticator(User.objects.get(username=username))
    page.goto(site + "/can-bo/dang-nhap/")
    login = page.locator("form", has=page.locator('[name="password"]'))
    login.locator('[name="username"]').fill(username)
    login.locator('[name="password"]').fill(OFFICIAL_PASSWORD)
    login.locator('[type="submit"]').click()
    page.get_by_label("Mã xác thực").fill(code_now(device))
    page.locator("form", has=page.locator('[name="code"]')).locator('[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/can-bo/(cho-toi/)?$"))
    return page


# --- the background queue -------------------------------------------------------------------------


def run_queue() -> None:
    """Run the queued jobs of the saga until none is left, as `motcua procrastinate worker`
    does, then return. In a thread of its own: the test's thread hosts Playwright's event loop,
    and the worker needs one of its own; its database connections are closed after."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            connector: Any = app.connector  # the Django connector; workers need one of their own
            with app.replace_connector(connector.get_worker_connector()):
                app.run_worker(
                    queues=QUEUES, wait=False, install_signal_handlers=False, listen_notify=False
                )
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            failed.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, name="procrastinate-worker")
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the worker did not finish the queued jobs"
    assert not failed, failed


# --- the official's steps -------------------------------------------------------------------------


def open_from_queue(official: Page, site: str, code: str) -> None:
    """From what waits for the official, the dossier by its code."""
    official.goto(site + "/can-bo/")
    official.get_by_role("link", name=code, exact=True).click()
    expect(official.get_by_role("heading", level=1)).to_contain_text(code)


def take_step(official: Page, action: str, *, note: str = "", assignee: str = "") -> None:
    """Press the step's button (with the reason, the official to assign), confirm when the
    back office asks; the dossier page comes back updated."""
    form = official.locator(f"#action-{action}")
    if note:
        form.locator('[name="note"]').fill(note)
    if assignee:
        form.locator('[name="assignee"]').select_option(assignee)
    form.locator('[type="submit"]').click()
    if action in CONFIRMED:  # the back office shows what will happen and asks first
        expect(official.locator("#confirm-heading")).to_be_visible()
        if note:
            expect(official.locator("#confirm-note")).to_have_text(note)
        official.locator("#confirm-button").click()
    expect(official.locator(".govuk-notification-banner")).to_contain_text("Đã cập nhật hồ sơ")
    expect(official.locator(f"#action-{action}")).to_have_count(0)


def process(official: Page, site: str, code: str, username: str, *, until: str = "") -> None:
    """Take the dossier from the official's queue to its result, every step by the buttons
    (up to the step before `until`, when given)."""
    open_from_queue(official, site, code)
    for action in HAPPY_PATH:
        if action == until:
            return
        if official.locator(f"#action-{action}").count():
            take_step(official, action, assignee=username if action == "assign" else "")
    expect(official.locator("#status")).to_contain_text("Đã có kết quả")


def form_fields(official: Page, action: str) -> dict[str, Any]:
    """What the step's form sends (its CSRF token, the dossier's version, the action)."""
    fields: dict[str, Any] = official.locator(f"#action-{action}").evaluate(
        "f => Object.fromEntries(new FormData(f))"
    )
    return fields
