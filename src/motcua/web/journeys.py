"""The pages a citizen, the officials and a data clerk go through, walked in a real browser.

One walk drives Chromium (through Playwright) over a running site, signs each person in as a
person does (the citizen through the e-ID provider with the authenticator's code, the
officials at the back office with theirs), and calls `visit` on every page it reaches, at each
width: `motcua screenshots` saves a picture there, the accessibility test runs axe-core there,
the layout test measures the page's width there.

A page a journey cannot reach yet (a step not built, a page answering 404) is recorded as
skipped with the reason, and the walk goes on. The walk needs data like the demo's: a level-2
citizen with an e-ID account, the one-stop officer of their commune, a data-cleaning
official with a finished linkage job, and the demo's life events: a refused linked package of
the citizen's, a package step in the commune police's queue, a dossier waiting at social
insurance (`Cast`). Playwright runs in a thread of its own, so the
caller's thread keeps its database connections (see motcua.conftest on sync Playwright).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from motcua.core.actors import SYSTEM
from motcua.core.documents import Document, document_pdf
from motcua.registry import selectors as registry

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = Path(os.environ.get("MOTCUA_CHROMIUM", "/usr/bin/chromium"))
# Headless, no sandbox (runs as root in CI), and none of Chromium's calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
WIDTHS = (1366, 390)
HEIGHT = 900
BIRTH = "1.001193"  # the birth registration: the citizen's journey files one
SHOWN = "shown"


@dataclass(frozen=True)
class Login:
    """Who signs in: a citizen's PIN or an official's username, the password, and the secret
    of their authenticator (base32, as an authenticator app holds it)."""

    name: str
    password: str
    totp_secret: str


@dataclass(frozen=True)
class Cast:
    citizen: Login  # level 2: the birth registration asks for it
    official: Login  # the one-stop officer of the citizen's commune
    clerk: Login  # the data-cleaning official, with a finished linkage job
    mother_pin: str  # the child's mother in the birth registration the citizen files
    relation: str  # the citizen's relation to the child ("me", "cha")
    # The commune police's residence officer, with a linked package's step in the queue, and
    # the province's social-insurance officer, with a funeral allowance waiting (the demo's).
    police: Login | None = None
    insurance: Login | None = None


@dataclass(frozen=True)
class Stop:
    """One page of a journey: its number and name make the screenshot's file name and the
    test's id."""

    number: int
    name: str
    role: str


STOPS: tuple[Stop, ...] = (
    Stop(1, "home", "citizen"),
    Stop(2, "procedures", "citizen"),
    Stop(3, "procedure", "citizen"),
    Stop(4, "eid-login", "citizen"),
    Stop(5, "eid-second-factor", "citizen"),
    Stop(6, "submit-form", "citizen"),
    Stop(7, "submit-form-errors", "citizen"),
    Stop(8, "check-answers", "citizen"),
    Stop(9, "confirmation", "citizen"),
    Stop(10, "my-dossiers", "citizen"),
    Stop(11, "dossier", "citizen"),
    Stop(12, "eid-account", "citizen"),
    Stop(13, "eid-access-log", "citizen"),
    Stop(14, "eid-sessions", "citizen"),
    Stop(15, "not-found", "citizen"),
    # Life events: linked packages, proactive offers, the child in the parent's e-ID.
    Stop(40, "package-form", "citizen"),
    Stop(41, "package-form-errors", "citizen"),
    Stop(42, "package-check", "citizen"),
    Stop(43, "package-confirmation", "citizen"),
    Stop(44, "package-running", "citizen"),
    Stop(45, "package-refused", "citizen"),
    Stop(46, "death-package-form", "citizen"),
    Stop(47, "offers", "citizen"),
    Stop(48, "eid-account-child", "citizen"),
    Stop(20, "backoffice-login", "official"),
    Stop(21, "backoffice-code", "official"),
    Stop(22, "backoffice-start", "official"),
    Stop(23, "backoffice-queue-mine", "official"),
    Stop(24, "backoffice-queue-agency", "official"),
    Stop(25, "backoffice-dossier", "official"),
    Stop(26, "police-package-step", "police"),
    Stop(27, "insurance-queue", "insurance"),
    Stop(28, "insurance-dossier", "insurance"),
    Stop(30, "linkage-jobs", "clerk"),
    Stop(31, "linkage-job", "clerk"),
    Stop(32, "linkage-report", "clerk"),
    Stop(33, "linkage-review", "clerk"),
    Stop(34, "linkage-pair", "clerk"),
)
BY_NAME = {stop.name: stop for stop in STOPS}
ROLES = ("citizen", "official", "clerk", "police", "insurance")

Visit = Callable[["Page", Stop, int], None]


@dataclass
class Tour:
    """One person's walk: `at` hands the page shown to `visit` at each width in turn (the
    window resized, the same page), so one walk serves every width."""

    page: Page
    base: str
    widths: tuple[int, ...]
    visit: Visit
    outcomes: dict[str, str] = field(default_factory=dict)

    def at(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        for width in self.widths:
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            self.visit(self.page, BY_NAME[name], width)
        self.page.set_viewport_size({"width": self.widths[0], "height": HEIGHT})
        self.outcomes[name] = SHOWN

    def skip(self, name: str, why: str) -> None:
        self.outcomes[name] = f"skipped: {why}"

    def go(self, name: str, path: str, *, status: int = 200) -> bool:
        """Open the page at `path`; skipped unless it answers `status`."""
        response = self.page.goto(self.base + path)
        got = response.status if response else 0
        if got != status:
            self.skip(name, f"{path} answered {got}")
            return False
        self.at(name)
        return True

    def follow(self, name: str, pattern: str) -> bool:
        """Open the first link on this page whose address matches `pattern` (a regex)."""
        href = first_link(self.page, pattern)
        if href is None:
            self.skip(name, f"no link to {pattern} on {self.page.url}")
            return False
        return self.go(name, href)


def first_link(page: Page, pattern: str) -> str | None:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    return next((h for h in hrefs if re.fullmatch(pattern, h.split("?")[0])), None)


def totp_now(secret: str) -> str:
    """The code an authenticator app shows now (RFC 6238: SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def submit(form: Locator) -> None:
    """Press the form's (first) submit button."""
    form.locator('button[type="submit"], button:not([type]), input[type="submit"]').first.click()
    form.page.wait_for_load_state("load")


def form_with(page: Page, field_name: str) -> Locator:
    return page.locator("form", has=page.locator(f'[name="{field_name}"]')).first


# --- the citizen --------------------------------------------------------------------------------


def citizen_journey(tour: Tour, cast: Cast, certificate: Path) -> None:
    page = tour.page
    tour.go("home", "/")
    tour.go("procedures", "/thu-tuc/?q=khai+sinh")
    tour.go("procedure", f"/thu-tuc/{BIRTH}/")

    # The portal sends the browser to the e-ID provider and back to the form.
    form_path = f"/thu-tuc/{BIRTH}/nop/"
    page.goto(f"{tour.base}/dang-nhap/?next={form_path}")
    tour.at("eid-login")
    login = form_with(page, "pin")
    login.locator('[name="pin"]').fill(cast.citizen.name)
    login.locator('[name="password"]').fill(cast.citizen.password)
    submit(login)
    tour.at("eid-second-factor")
    second = form_with(page, "code")
    second.locator('[name="code"]').fill(totp_now(cast.citizen.totp_secret))
    submit(second)
    page.wait_for_url(re.compile(re.escape(form_path) + "$"))
    tour.at("submit-form")

    # Sent empty: every field's error at once (the browser's own checks set aside).
    form = form_with(page, "ho_ten_tre")
    form.evaluate("f => { f.noValidate = true; }")
    submit(form)
    tour.at("submit-form-errors")

    form = form_with(page, "ho_ten_tre")
    _fill_birth(form, cast, certificate)
    submit(form)
    if re.search(r"/ho-so/\d+/$", page.url):  # filed at once: no check-your-answers yet
        tour.skip("check-answers", "the form files at once")
        tour.skip("confirmation", "the form files at once")
    else:
        tour.at("check-answers")
        confirm = page.locator("main form").last
        submit(confirm)
        if page.locator(".govuk-panel--confirmation").count():
            tour.at("confirmation")
        else:
            tour.skip("confirmation", f"no confirmation panel at {page.url}")

    if tour.go("my-dossiers", "/ho-so/"):
        tour.follow("dossier", r"/ho-so/\d+/")
    else:
        tour.skip("dossier", "no list of dossiers")
    tour.go("eid-account", "/id/tai-khoan/")
    tour.go("eid-access-log", "/id/tai-khoan/ai-da-xem/")
    tour.go("eid-sessions", "/id/tai-khoan/phien/")
    tour.go("not-found", "/khong-co-trang-nay/", status=404)
    package_journey(tour, certificate)


def package_journey(tour: Tour, certificate: Path) -> None:
    """The birth package filed (the form, its errors, check your answers, the confirmation),
    a running and a refused package, the death package's form, the state's offers, and the
    newborn among the parent's e-ID documents."""
    page = tour.page
    if tour.go("package-form", "/lien-thong/birth/"):
        form = form_with(page, "ho_ten_tre")
        form.evaluate("f => { f.noValidate = true; }")
        submit(form)
        tour.at("package-form-errors")
        form = form_with(page, "ho_ten_tre")
        fill(form, "ho_ten_tre", "Trần Gia Bảo")
        fill(form, "gioi_tinh", "M")
        fill(form, "noi_sinh", "Bệnh viện Phụ sản tỉnh Đồng Tháp")
        fill_date(form, "ngay_sinh", date.today() - timedelta(days=1))
        upload = form.locator('[name="file_giay_chung_sinh"]')
        if upload.count():
            upload.first.set_input_files(certificate)
        submit(form)
        if "/kiem-tra/" in page.url:
            tour.at("package-check")
            submit(page.locator("main form").last)
            if page.locator(".govuk-panel--confirmation").count():
                tour.at("package-confirmation")
                tour.follow("package-running", r"/lien-thong/ho-so/\d+/")
            else:
                tour.skip("package-confirmation", f"no confirmation panel at {page.url}")
        else:
            tour.skip("package-check", f"the form stayed at {page.url}")
    _refused_package(tour)
    tour.go("death-package-form", "/lien-thong/death/")
    tour.go("offers", "/dich-vu-chu-dong/")
    tour.go("eid-account-child", "/id/tai-khoan/")


def _refused_package(tour: Tour) -> None:
    """The citizen's package whose page names a refused step (the demo makes one)."""
    page = tour.page
    page.goto(tour.base + "/ho-so/")
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    for href in dict.fromkeys(h for h in hrefs if re.fullmatch(r"/lien-thong/ho-so/\d+/", h)):
        page.goto(tour.base + href)
        if page.locator("#failed-step").count():
            tour.at("package-refused")
            return
    tour.skip("package-refused", "no refused package among the citizen's")


def _fill_birth(form: Locator, cast: Cast, certificate: Path) -> None:
    born = date.today() - timedelta(days=3)  # within 60 days: no fee
    values = {
        "ho_ten_tre": "Nguyễn Minh Khôi",
        "gioi_tinh": "M",
        "noi_sinh": "Bệnh viện Phụ sản tỉnh Đồng Tháp",
        "dan_toc": "Kinh",
        "que_quan": "Đồng Tháp",
        "me_pin": cast.mother_pin,
        "quan_he_nguoi_yeu_cau": cast.relation,
    }
    for name, value in values.items():
        fill(form, name, value)
    fill_date(form, "ngay_sinh", born)
    upload = form.locator('[name="file_giay_chung_sinh"], [name="giay_chung_sinh"]')
    if upload.count():
        upload.first.set_input_files(certificate)


def fill(form: Locator, name: str, value: str) -> None:
    """Fill a field by name, whatever its kind (text box, list, radios)."""
    field = form.locator(f'[name="{name}"]')
    if not field.count():
        return
    kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if kind.startswith("select"):
        field.first.select_option(value)
    elif kind in ("input:radio", "input:checkbox"):
        form.locator(f'[name="{name}"][value="{value}"]').check()
    else:
        field.first.fill(value)


def fill_date(form: Locator, name: str, value: date) -> None:
    """Day / month / year boxes (`name_0`.. or GOV.UK's `name-day`..), or one box."""
    parts = (str(value.day), str(value.month), str(value.year))
    for names in (
        [f"{name}_0", f"{name}_1", f"{name}_2"],
        [f"{name}-day", f"{name}-month", f"{name}-year"],
    ):
        if form.locator(f'[name="{names[0]}"]').count():
            for part_name, part in zip(names, parts, strict=True):
                form.locator(f'[name="{part_name}"]').fill(part)
            return
    single = form.locator(f'[name="{name}"]')
    if single.count():
        iso = (
            single.first.get_attribute("type") == "date"
            or "yyyy-mm-dd" in (single.first.get_attribute("placeholder") or "").lower()
        )
        single.first.fill(value.isoformat() if iso else value.strftime("%d/%m/%Y"))


# --- the officials ------------------------------------------------------------------------------


def back_office_sign_in(tour: Tour, who: Login, *, pictures: bool) -> None:
    """Password, then the authenticator's code; `pictures` shows both pages to `visit`."""
    page = tour.page
    if pictures:
        tour.go("backoffice-login", "/can-bo/dang-nhap/")
    else:
        page.goto(tour.base + "/can-bo/dang-nhap/")
    login = form_with(page, "username")
    login.locator('[name="username"]').fill(who.name)
    login.locator('[name="password"]').fill(who.password)
    submit(login)
    if pictures:
        tour.at("backoffice-code")
    second = form_with(page, "code")
    second.locator('[name="code"]').fill(totp_now(who.totp_secret))
    submit(second)
    if "/dang-nhap/" in page.url:
        raise RuntimeError(f"{who.name} could not sign in to the back office ({page.url})")


def official_journey(tour: Tour, cast: Cast) -> None:
    back_office_sign_in(tour, cast.official, pictures=True)
    tour.at("backoffice-start")  # where the sign-in leads: the official's start page
    start = tour.page.url
    # The two queues, when the back office has them: "waiting for me" and "for my agency".
    tour.follow("backoffice-queue-mine", r"/can-bo/(cho-toi|cua-toi|viec-cua-toi)/")
    tour.page.goto(start)
    tour.follow("backoffice-queue-agency", r"/can-bo/co-quan/\d+/")
    if tour.outcomes.get("backoffice-queue-agency") != SHOWN:
        tour.page.goto(start)
    tour.follow("backoffice-dossier", r"/can-bo/ho-so/\d+/")


def police_journey(tour: Tour, cast: Cast) -> None:
    """The commune police officer opens a dossier of their queue that is a linked package's
    step (the page says which step of which package)."""
    if cast.police is None:
        tour.skip("police-package-step", "no police officer in the cast")
        return
    back_office_sign_in(tour, cast.police, pictures=False)
    page = tour.page
    start = page.url
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    for href in dict.fromkeys(h for h in hrefs if re.fullmatch(r"/can-bo/ho-so/\d+/", h)):
        page.goto(tour.base + href)
        if page.locator("#package").count():
            tour.at("police-package-step")
            return
    tour.skip("police-package-step", f"no package step in the queue at {start}")


def insurance_journey(tour: Tour, cast: Cast) -> None:
    """The social-insurance officer's queue (what waits for them) and a dossier from it."""
    if cast.insurance is None:
        tour.skip("insurance-queue", "no social-insurance officer in the cast")
        tour.skip("insurance-dossier", "no social-insurance officer in the cast")
        return
    back_office_sign_in(tour, cast.insurance, pictures=False)
    tour.at("insurance-queue")
    tour.follow("insurance-dossier", r"/can-bo/ho-so/\d+/")


def clerk_journey(tour: Tour, cast: Cast) -> None:
    back_office_sign_in(tour, cast.clerk, pictures=False)
    if not tour.go("linkage-jobs", "/can-bo/lien-ket/"):
        return
    job = first_link(tour.page, r"/can-bo/lien-ket/\d+/")
    if job is None:
        tour.skip("linkage-job", "no linkage job listed")
        return
    tour.go("linkage-job", job)
    tour.go("linkage-report", job + "bao-cao/")
    if tour.go("linkage-review", job + "doi-soat/"):
        tour.follow("linkage-pair", r"/can-bo/lien-ket/cap/\d+/")


# --- the walk -----------------------------------------------------------------------------------


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(
            f"no Chromium at {CHROMIUM}: run `make setup` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def walk(
    *,
    base_url: str,
    cast: Cast,
    visit: Visit,
    widths: tuple[int, ...] = WIDTHS,
    roles: tuple[str, ...] = ROLES,
    bypass_csp: bool = False,
    scale: float = 1,
    scratch: Path,
) -> dict[tuple[str, int], str]:
    """Walk every role's journey, each page seen at every width; returns, per (page name, width), "shown" or
    why it was skipped (a journey that breaks leaves its remaining pages "not reached: ...").
    Runs Playwright in a thread of its own; `visit` is called in that thread. `scale` is the
    device pixel ratio (below 1 for smaller pictures)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="journeys") as pool:
        return pool.submit(
            _walk, base_url, cast, visit, widths, roles, bypass_csp, scale, scratch
        ).result()


def _walk(
    base_url: str,
    cast: Cast,
    visit: Visit,
    widths: tuple[int, ...],
    roles: tuple[str, ...],
    bypass_csp: bool,
    scale: float,
    scratch: Path,
) -> dict[tuple[str, int], str]:
    certificate = birth_certificate(scratch)
    journeys: dict[str, Callable[[Tour], None]] = {
        "citizen": lambda t: citizen_journey(t, cast, certificate),
        "official": lambda t: official_journey(t, cast),
        "clerk": lambda t: clerk_journey(t, cast),
        "police": lambda t: police_journey(t, cast),
        "insurance": lambda t: insurance_journey(t, cast),
    }
    outcomes: dict[tuple[str, int], str] = {}
    with chromium() as browser:
        for role in roles:
            context = browser.new_context(
                locale="vi-VN",
                timezone_id="Asia/Ho_Chi_Minh",
                viewport={"width": widths[0], "height": HEIGHT},
                bypass_csp=bypass_csp,
                device_scale_factor=scale,
            )
            context.set_default_timeout(TIMEOUT_MS)
            tour = Tour(context.new_page(), base_url.rstrip("/"), widths, visit)
            try:
                journeys[role](tour)
            except Exception as error:  # the journey broke: its remaining pages say why
                first_line = f"{type(error).__name__}: {error}".splitlines()[0]
                why = f"not reached: {first_line} (at {tour.page.url})"
                for stop in STOPS:
                    if stop.role == role:
                        tour.outcomes.setdefault(stop.name, why)
            finally:
                context.close()
            for name, outcome in tour.outcomes.items():
                for width in widths:
                    outcomes[(name, width)] = outcome
    return outcomes


def birth_certificate(folder: Path) -> Path:
    """The hospital's medical birth certificate the citizen uploads: a small real PDF."""
    path = folder / "giay-chung-sinh.pdf"
    if not path.exists():
        path.write_bytes(
            document_pdf(
                Document(
                    authority="BỆNH VIỆN PHỤ SẢN", title="GIẤY CHỨNG SINH", reference="", rows=[]
                )
            )
        )
    return path


def mother_of_the_birth(pin: str) -> tuple[str, str]:
    """The mother's PIN and the citizen's relation to the child in the birth registration the
    citizen files: herself when a woman; else his wife; else a woman of the registry (as the
    demo's fathers name a neighbour). Reads the registry: call it before `walk`."""
    purpose = "Chuẩn bị hành trình xem trang / setting up the page journeys"
    person = registry.citizen_get(actor=SYSTEM, pin=pin, purpose=purpose)
    if person.sex == "F":
        return pin, "me"
    if person.spouse_pin:
        return person.spouse_pin, "cha"
    for other, _name in registry.household_heads(limit=100):
        if registry.citizen_get(actor=SYSTEM, pin=other, purpose=purpose).sex == "F":
            return other, "cha"
    raise LookupError("no woman in the registry to be the child's mother")


def page_file_name(stop: Stop, width: int) -> str:
    return f"{stop.number:02d}-{stop.name}-{width}.png"
