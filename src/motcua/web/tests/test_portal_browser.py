"""The birth registration as a mother walks it in Chromium, one mistake in every field: the error
summary lists each field and takes the focus, the certificate she chose is kept (she does not
choose it again), she checks her answers, changes one, files, and sees the confirmation with the
receipt code and the appointment; going back and sending again files nothing more. Then the same
journey in English, after the header's language switch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from motcua.catalog.tests.factories import Agency
from motcua.core.documents import Document, document_pdf
from motcua.dossiers.tests.factories import agencies_ready, agency_of, catalog_ready
from motcua.identity.tests.factories import PASSWORD, Person, make_person
from motcua.registry.services import ResidenceMove, residence_move
from motcua.registry.tests.factories import OFFICIAL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BIRTH = "1.001193"
Dossier: Any = apps.get_model("dossiers", "Dossier")
FIELDS = ("ho_ten_tre", "gioi_tinh", "ngay_sinh_0", "noi_sinh", "me_pin", "quan_he_nguoi_yeu_cau")


@dataclass(frozen=True)
class Words:
    """What the pages say, in one language."""

    start: str
    summary_title: str
    kept: str
    continue_: str
    check_title: str
    change: str
    confirm: str
    panel_title: str
    next_steps: str
    held_by_state: str
    future_date: str


VIETNAMESE = Words(
    start="Nộp hồ sơ trực tuyến",
    summary_title="Có lỗi cần sửa",
    kept="Đã nhận tệp giay-chung-sinh.pdf — chọn tệp khác nếu muốn thay",
    continue_="Tiếp tục",
    check_title="Kiểm tra thông tin trước khi nộp",
    change="Thay đổi",
    confirm="Xác nhận và nộp hồ sơ",
    panel_title="Đã nộp hồ sơ",
    next_steps="Điều gì xảy ra tiếp theo",
    held_by_state="Nhà nước đã có, bạn không phải nộp",
    future_date="Ngày không được ở tương lai",
)
ENGLISH = Words(
    start="Apply online",
    summary_title="There is a problem",
    kept="File giay-chung-sinh.pdf received — choose another file to replace it",
    continue_="Continue",
    check_title="Check your answers before submitting",
    change="Change",
    confirm="Confirm and submit",
    panel_title="Dossier submitted",
    next_steps="What happens next",
    held_by_state="Held by the state, you need not submit",
    future_date="",  # the lead's catalog words it; only its presence is checked
)


@pytest.fixture
def commune() -> Agency:
    catalog_ready()
    return agency_of("commune", agencies_ready()[0])


@pytest.fixture
def mother(commune: Agency) -> Person:
    person = make_person(full_name="Lê Thị Mai", sex="F", birth_date=date(1994, 6, 2), level=2)
    residence_move(
        actor=OFFICIAL,
        pin=person.pin,
        move=ResidenceMove(
            kind="permanent", since=date(2019, 1, 1), ward=commune.unit_code, address="Số 12"
        ),
    )
    return person


def certificate(tmp_path: Path) -> Path:
    path = tmp_path / "giay-chung-sinh.pdf"
    path.write_bytes(
        document_pdf(
            Document(authority="BỆNH VIỆN", title="GIẤY CHỨNG SINH", reference="Số: 1", rows=[])
        )
    )
    return path


def sign_in(page: Page, person: Person) -> None:
    """On the e-ID provider's pages, where the portal sent the browser."""
    login = page.locator("form", has=page.locator('[name="pin"]'))
    login.locator('[name="pin"]').fill(person.pin)
    login.locator('[name="password"]').fill(PASSWORD)
    login.locator('button[type="submit"]').click()
    assert person.totp_secret
    second = page.locator("form", has=page.locator('[name="code"]'))
    second.locator('[name="code"]').fill(pyotp.TOTP(person.totp_secret).now())
    second.locator('button[type="submit"], button:not([type])').first.click()


def fill_date(page: Page, name: str, day: date | tuple[int, int, int]) -> None:
    d, m, y = (day.day, day.month, day.year) if isinstance(day, date) else day
    for part, value in enumerate((d, m, y)):
        page.locator(f'[name="{name}_{part}"]').fill(str(value))


def walk(page: Page, site: str, words: Words, commune: Agency, mother: Person, pdf: Path) -> str:
    """From the procedure page to the confirmation; returns the receipt code."""
    page.goto(f"{site}/thu-tuc/{BIRTH}/")
    page.get_by_role("button", name=words.start).click()
    if "/o/" in page.url or "/id/" in page.url:
        sign_in(page, mother)
    expect(page).to_have_url(f"{site}/thu-tuc/{BIRTH}/nop/")
    form = page.locator("#submit-form")
    expect(page.locator("#held-papers")).to_contain_text(words.held_by_state)
    expect(form.locator('[name="agency_id"]')).to_have_value(str(commune.pk))
    expect(page.locator("#id_agency_id-hint")).to_contain_text(commune.name)

    # One mistake in every field; the certificate is chosen once, here.
    born = timezone.localdate() - timedelta(days=3)
    fill_date(page, "ngay_sinh", (born.day, born.month, born.year + 1))
    form.locator('[name="me_pin"]').fill("12345")
    form.locator('[name="dan_toc"]').fill("Kinh")
    form.locator('[name="file_giay_chung_sinh"]').set_input_files(pdf)
    form.get_by_role("button", name=words.continue_).click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(words.summary_title)
    expect(summary).to_be_focused()
    links = summary.locator("a")
    hrefs = {str(links.nth(i).get_attribute("href")) for i in range(links.count())}
    assert {f"#id_{name}" for name in FIELDS} <= hrefs, hrefs
    if words.future_date:
        expect(summary).to_contain_text(words.future_date)
    summary.locator('a[href="#id_me_pin"]').click()
    expect(page.locator("#id_me_pin")).to_be_focused()
    expect(page.get_by_text(words.kept)).to_be_visible()
    assert page.locator('[name="file_giay_chung_sinh"]').evaluate("i => i.files.length") == 0
    expect(page.locator('[name="dan_toc"]')).to_have_value("Kinh")  # right answers kept too

    # Each mistake put right; the file is not chosen again.
    form = page.locator("#submit-form")
    form.locator('[name="ho_ten_tre"]').fill("Nguyễn Minh Khô")
    form.locator('[name="gioi_tinh"]').select_option("M")
    fill_date(page, "ngay_sinh", born)
    form.locator('[name="noi_sinh"]').fill("Bệnh viện Phụ sản tỉnh")
    form.locator('[name="me_pin"]').fill(mother.pin)
    form.locator('[name="quan_he_nguoi_yeu_cau"]').select_option("me")
    form.get_by_role("button", name=words.continue_).click()

    # Check your answers; change the child's name (a typo) and come back.
    expect(page.get_by_role("heading", level=1)).to_have_text(words.check_title)
    answers = page.locator("#answers")
    expect(answers).to_contain_text("Nguyễn Minh Khô")
    expect(answers).to_contain_text("giay-chung-sinh.pdf")
    expect(answers).to_contain_text(born.strftime("%d/%m/%Y"))
    answers.locator("a[href$='#id_ho_ten_tre']").click()
    expect(page.locator('[name="ho_ten_tre"]')).to_have_value("Nguyễn Minh Khô")
    expect(page.get_by_text(words.kept)).to_be_visible()
    page.locator('[name="ho_ten_tre"]').fill("Nguyễn Minh Khôi")
    page.locator("#submit-form").get_by_role("button", name=words.continue_).click()
    expect(page.locator("#answers")).to_contain_text("Nguyễn Minh Khôi")

    page.get_by_role("button", name=words.confirm).click()
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel).to_contain_text(words.panel_title)
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(rf"{re.escape(commune.code)}-\d{{6}}-\d{{4}}", code), code
    expect(page.locator("#due-on")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4}"))
    expect(page.get_by_role("heading", name=words.next_steps)).to_be_visible()

    # Back to the answers and send them again: the same dossier, not a second one.
    filed = Dossier.objects.filter(applicant_pin=mother.pin).count()
    page.go_back()
    again = page.get_by_role("button", name=words.confirm)
    if again.count():  # the browser showed the answers page it kept: press the button again
        again.click()
    expect(page.locator(".govuk-panel--confirmation")).to_be_visible()
    expect(page.locator("#receipt-code")).to_have_text(code)
    assert Dossier.objects.filter(applicant_pin=mother.pin).count() == filed
    return code


def test_the_birth_registration_forgives_every_mistake_in_vietnamese_then_in_english(
    site: str, page: Page, commune: Agency, mother: Person, tmp_path: Path
) -> None:
    pdf = certificate(tmp_path)
    first = walk(page, site, VIETNAMESE, commune, mother, pdf)
    assert Dossier.objects.filter(code=first, applicant_pin=mother.pin).count() == 1

    page.goto(f"{site}/thu-tuc/{BIRTH}/")
    page.locator(".govuk-language-navigation").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Birth registration")
    # The first dossier is still open: the page says so before she starts another.
    expect(page.locator("#open-dossier")).to_contain_text(first)
    second = walk(page, site, ENGLISH, commune, mother, pdf)
    assert second != first
    assert Dossier.objects.filter(applicant_pin=mother.pin).count() == 2
