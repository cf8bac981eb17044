"""A birth registration end to end in real browsers (Chromium through Playwright) against a live
server: a mother signs in to the portal with her e-ID (OpenID Connect), finds the procedure,
submits the declaration with the medical birth certificate; an official of the commune, in a
browser context of their own, receives, approves, issues and returns it; the mother sees the
result, downloads it and rates the service."""

from __future__ import annotations

import re
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from motcua.catalog.tests.factories import Agency
from motcua.core.documents import Document, document_pdf
from motcua.core.models import AccessLog
from motcua.dossiers.tests.factories import agencies_ready, agency_of, catalog_ready, make_official
from motcua.identity.tests.factories import PASSWORD, Person, make_person
from motcua.registry.services import ResidenceMove, residence_move
from motcua.registry.tests.factories import OFFICIAL
from motcua.web.tests.staff import authenticator, code_now

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OFFICIAL_USERNAME = "hotich.lan"
OFFICIAL_PASSWORD = "x-test-password-1"  # what make_official sets
CHILD = "Nguyễn Minh Khôi"
# The dossiers app keeps its tables to itself (import-linter): the tests reach them by name.
Dossier: Any = apps.get_model("dossiers", "Dossier")


@pytest.fixture
def commune() -> Agency:
    """The shipped catalog, a province's agencies; the commune of the first ward."""
    catalog_ready()
    return agency_of("commune", agencies_ready()[0])


@pytest.fixture
def mother(commune: Agency) -> Person:
    """A citizen with a level-2 e-ID account (the birth registration asks for level 2), living
    permanently in the commune's ward."""
    person = make_person(full_name="Lê Thị Mai", sex="F", birth_date=date(1994, 6, 2), level=2)
    residence_move(
        actor=OFFICIAL,
        pin=person.pin,
        move=ResidenceMove(
            kind="permanent",
            since=date(2019, 1, 1),
            ward=commune.unit_code,
            address="Số 12 đường Trần Phú",
        ),
    )
    return person


def birth_certificate(tmp_path: Path) -> Path:
    """A real PDF, as the hospital's medical birth certificate."""
    path = tmp_path / "giay-chung-sinh.pdf"
    path.write_bytes(
        document_pdf(
            Document(
                authority="BỆNH VIỆN PHỤ SẢN",
                title="GIẤY CHỨNG SINH",
                reference="Số: 123/GCS",
                rows=[("Họ và tên mẹ", "Lê Thị Mai"), ("Giới tính con", "Nam")],
            )
        )
    )
    return path


def screenshot(page: Page, name: str) -> None:
    """A picture of the page for people reviewing the journey: $TMPDIR/e2e-<name>.png."""
    page.screenshot(path=Path(tempfile.gettempdir()) / f"e2e-{name}.png", full_page=True)


def downloaded(page: Page, link: Locator) -> bytes:
    """What the browser saves when the link is clicked (the papers come as attachments)."""
    with page.expect_download() as download:
        link.click()
    return download.value.path().read_bytes()


# --- the citizen --------------------------------------------------------------------------------


def sign_in_citizen(page: Page, person: Person) -> None:
    """On the e-ID provider's sign-in page, where the portal sent the browser."""
    page.get_by_label("Số định danh cá nhân").fill(person.pin)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("form", has=page.locator('[name="pin"]')).locator('[type="submit"]').click()
    assert person.totp_secret
    page.get_by_label("Mã xác thực").fill(pyotp.TOTP(person.totp_secret).now())
    form = page.locator("form", has=page.locator('[name="code"]'))
    form.locator('button[type="submit"], button:not([type])').first.click()


def find_birth_registration(page: Page, site: str) -> None:
    page.goto(site + "/")
    page.get_by_label("Tìm thủ tục hành chính").fill("làm giấy khai sinh cho con")
    page.locator("#home-search").get_by_role("button", name="Tìm kiếm").click()
    page.locator("#procedures").get_by_role("link", name="Đăng ký khai sinh", exact=True).click()
    expect(page).to_have_url(site + "/thu-tuc/1.001193/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Đăng ký khai sinh")
    # Identity, residence and the parents' marriage: the registry holds them for everyone.
    expect(page.locator("#papers tr.held")).to_have_count(3)


def see_identity_locked(page: Page, site: str, person: Person) -> None:
    """The birth form asks nothing the registry fills in, so the once-only lock is seen on a
    form that does: the ID-number confirmation (2.001178), its identity fields disabled and
    holding the registry's values."""
    page.goto(site + "/thu-tuc/2.001178/nop/")
    form = page.locator("#submit-form")
    born = person.birth_date
    for name, value in {
        "so_dinh_danh": person.pin,
        "ho_ten": person.full_name,
        "ngay_sinh_0": str(born.day),  # the date in its three boxes
        "ngay_sinh_1": str(born.month),
        "ngay_sinh_2": str(born.year),
    }.items():
        field = form.locator(f'[name="{name}"]')
        expect(field).to_be_disabled()
        expect(field).to_have_value(value)


def submit_birth(page: Page, mother: Person, commune: Agency, certificate: Path) -> str:
    """Fill and send the birth registration form; returns the dossier page's address."""
    form = page.locator("#submit-form")
    expect(form).to_be_visible()
    held = page.locator("#held-papers")
    expect(held).to_contain_text("Nhà nước đã có, bạn không phải nộp")
    expect(held.locator("li")).to_have_count(3)
    expect(held).to_contain_text("Hộ chiếu, Chứng minh nhân dân")
    expect(held).to_contain_text("Giấy tờ chứng minh nơi cư trú")
    # Neither held papers nor the declaration itself are asked for as uploads.
    expect(form.locator('input[type="file"]')).to_have_count(2)  # certificate, power of attorney
    expect(form.locator('[name="agency_id"]')).to_have_value(str(commune.pk))  # her ward's

    born = timezone.localdate() - timedelta(days=3)  # within 60 days: no fee
    form.locator('[name="ho_ten_tre"]').fill(CHILD)
    form.locator('[name="gioi_tinh"]').select_option("M")
    for part, value in enumerate((born.day, born.month, born.year)):
        form.locator(f'[name="ngay_sinh_{part}"]').fill(str(value))
    form.locator('[name="noi_sinh"]').fill("Bệnh viện Phụ sản tỉnh")
    form.locator('[name="dan_toc"]').fill("Kinh")
    form.locator('[name="me_pin"]').fill(mother.pin)
    form.locator('[name="quan_he_nguoi_yeu_cau"]').select_option("me")
    form.locator('[name="file_giay_chung_sinh"]').set_input_files(certificate)
    screenshot(page, "submit-form")
    form.get_by_role("button", name="Tiếp tục").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra thông tin trước khi nộp")
    screenshot(page, "check-answers")
    page.get_by_role("button", name="Xác nhận và nộp hồ sơ").click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Đã nộp hồ sơ")
    screenshot(page, "confirmation")
    page.get_by_role("link", name="Xem hồ sơ", exact=True).click()
    expect(page).to_have_url(re.compile(r"/ho-so/\d+/$"))
    return page.url


# --- the official -------------------------------------------------------------------------------


def official_signs_in(browser: Browser, site: str) -> Page:
    """A second browser context (its own cookies): the official at the back office."""
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    device = authenticator(User.objects.get(username=OFFICIAL_USERNAME))
    page.goto(site + "/can-bo/dang-nhap/")
    login = page.locator("form", has=page.locator('[name="password"]'))
    login.locator('[name="username"]').fill(OFFICIAL_USERNAME)
    login.locator('[name="password"]').fill(OFFICIAL_PASSWORD)
    login.locator('[type="submit"]').click()
    # The second factor: the code the official's authenticator shows.
    page.get_by_label("Mã xác thực").fill(code_now(device))
    page.locator("form", has=page.locator('[name="code"]')).locator('[type="submit"]').click()
    return page


def take_step(page: Page, action: str, status: str) -> None:
    """Press the step's button; the dossier page comes back with the new status."""
    page.locator(f"#action-{action}").locator('[type="submit"]').click()
    if page.locator("#confirm-button").count():  # the back office asks before some steps
        page.locator("#confirm-button").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Đã cập nhật hồ sơ")
    expect(page.locator("#status")).to_contain_text(status)
    expect(page.locator(f"#action-{action}")).to_have_count(0)


# --- the journey --------------------------------------------------------------------------------


def test_a_birth_registration_from_the_citizen_to_the_official_and_back(
    site: str, page: Page, browser: Browser, commune: Agency, mother: Person, tmp_path: Path
) -> None:
    make_official(OFFICIAL_USERNAME, commune, "receiver", "approver", "clerk")
    certificate = birth_certificate(tmp_path)

    # 1. The mother: find the procedure, sign in when asked, submit.
    find_birth_registration(page, site)
    page.locator("#submit-link").click()
    sign_in_citizen(page, mother)
    expect(page).to_have_url(site + "/thu-tuc/1.001193/nop/")  # back where she was going
    dossier_url = submit_birth(page, mother, commune, certificate)

    code = page.locator("#dossier-code").inner_text()
    assert re.fullmatch(rf"{re.escape(commune.code)}-\d{{6}}-\d{{4}}", code), code
    expect(page.locator("#dossier-status")).to_contain_text("Mới đăng ký")
    expect(page.locator("#fee")).to_contain_text("Miễn lệ phí: Đăng ký khai sinh đúng hạn")
    expect(page.get_by_role("link", name="giay-chung-sinh.pdf")).to_be_visible()
    receipt = downloaded(page, page.get_by_role("link", name="Tải giấy tiếp nhận và hẹn trả (PDF)"))
    assert receipt.startswith(b"%PDF-")
    see_identity_locked(page, site, mother)

    # 2. The official: the queue, the dossier, four steps.
    official = official_signs_in(browser, site)
    dossier_id = Dossier.objects.get(code=code).pk
    official.goto(f"{site}/can-bo/ho-so/{dossier_id}/")
    expect(official.get_by_role("heading", level=1)).to_contain_text(code)
    expect(official.locator("#status")).to_contain_text("Mới đăng ký")
    declaration = official.locator("#declaration")
    expect(declaration).to_contain_text(CHILD)
    expect(declaration).to_contain_text("Nam")  # the enum's title, not "M"
    expect(declaration).to_contain_text(mother.pin)
    expect(declaration).to_contain_text("Mẹ")
    expect(official.locator("#papers")).to_contain_text("Nhà nước đã có")
    uploaded = official.locator("#papers").get_by_role("link", name="giay-chung-sinh.pdf")
    file = official.request.get(site + str(uploaded.get_attribute("href")))
    assert file.ok and file.body() == certificate.read_bytes()
    expect(official.locator("#applicant")).to_contain_text(mother.full_name)
    screenshot(official, "official-dossier")

    take_step(official, "receive", "Đang xử lý")
    take_step(official, "approve", "Đã phê duyệt")
    take_step(official, "issue_result", "Đã có kết quả")
    take_step(official, "return_result", "Đã trả kết quả")
    expect(official.locator("#actions")).to_contain_text("Bạn không có bước nào cần làm")
    official.context.close()

    # 3. The mother again: the result, the timeline, the rating.
    page.goto(dossier_url)
    expect(page.locator("#dossier-status")).to_contain_text("Đã trả kết quả")
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(5)  # submitted, then the official's four steps
    for step in ("Mới đăng ký", "Đang xử lý", "Đã phê duyệt", "Đã có kết quả", "Đã trả kết quả"):
        expect(page.locator("#timeline")).to_contain_text(step)
    result = downloaded(page, page.locator("#result-link"))
    assert result.startswith(b"%PDF-")
    rating = page.locator("#rating-form")
    rating.get_by_label("Rất hài lòng", exact=True).check()
    rating.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#rating")).to_contain_text("Bạn đã đánh giá 5/5. Cảm ơn!")
    expect(page.locator("#rating-form")).to_have_count(0)

    # What the server kept: the dossier returned, the official's reads in her access log.
    assert Dossier.objects.get(code=code).status == "returned"
    assert AccessLog.objects.filter(
        subject_pin=mother.pin, actor=f"official:{OFFICIAL_USERNAME}"
    ).exists()
