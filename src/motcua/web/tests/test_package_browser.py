"""Linked packages (Decree 63/2024) end to end in real browsers: a mother files a birth package
in the portal with her e-ID and follows it while the commune, the police and social insurance
each process their step in the back office, the saga's steps run on the background queue; a
refused step as the citizen reads it; a spouse's death package with the funeral allowance, after
which the deceased's e-ID stops signing in; a proactive offer taken up into a dossier in one
click; a birth declaration naming a mother nobody has, or a dead one, refused beside the field."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from motcua.catalog.selectors import AgencyKind
from motcua.core.actors import SYSTEM
from motcua.dossiers import services
from motcua.identity.tests.factories import PASSWORD, Person
from motcua.insurance.selectors import benefit_decisions_of, health_cards_of
from motcua.insurance.services import insured_register
from motcua.registry import selectors as registry
from motcua.registry.services import ResidenceMove, idcard_issue, residence_move
from motcua.registry.tests.factories import OFFICIAL, make_citizen
from motcua.web.tests.package_world import (
    Town,
    citizen_signs_in,
    fill_date,
    form_fields,
    login_of,
    official_signs_in,
    open_from_queue,
    pdf,
    process,
    run_queue,
    take_step,
    town_ready,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHILD = "Trần Minh Khang"
READ = "kiểm tra kết quả"
# The dossiers app keeps its tables to itself (import-linter): the tests reach them by name.
Dossier: Any = apps.get_model("dossiers", "Dossier")
Package: Any = apps.get_model("dossiers", "Package")
PackageStep: Any = apps.get_model("dossiers", "PackageStep")


@pytest.fixture
def town() -> Town:
    return town_ready()


def step_code(page: Page, position: int) -> str:
    """The code of a step's dossier, as the citizen's package page shows it."""
    code = page.locator(f"#step-{position}-code")
    expect(code).to_have_text(re.compile(r"\S+-\d{6}-\d{4}"))
    return code.inner_text().strip()


def step_row(page: Page, position: int) -> Any:
    return page.locator(f"#step-{position}")


def file_birth_package(page: Page, site: str, town: Town, certificate: Path) -> str:
    """The mother, from the package's form to its confirmation; returns the package page."""
    page.goto(site + "/lien-thong/birth/")
    citizen_signs_in(page, town.mother)
    expect(page).to_have_url(site + "/lien-thong/birth/")
    facts = page.locator("#registry-facts")
    expect(facts).to_contain_text(town.mother.full_name)
    expect(facts).to_contain_text(town.father.full_name)
    expect(facts).to_contain_text("12 Đường Hùng Vương")
    form = page.locator("#package-form")
    # Only what the state cannot know: the child, and the hospital's paper.
    assert form.locator('input[type="file"]').count() == 1
    assert form.locator('[name="me_pin"], [name="cha_pin"]').count() == 0

    born = timezone.localdate() - timedelta(days=2)
    form.locator('[name="ho_ten_tre"]').fill(CHILD)
    form.locator('[name="gioi_tinh"][value="M"]').check()
    fill_date(page, "ngay_sinh", born)
    form.locator('[name="noi_sinh"]').fill("Bệnh viện Đa khoa tỉnh")
    form.locator('[name="file_giay_chung_sinh"]').set_input_files(certificate)
    form.locator("#continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra thông tin trước khi nộp")
    answers = page.locator("#answers")
    expect(answers).to_contain_text(CHILD)
    expect(answers).to_contain_text(born.strftime("%d/%m/%Y"))
    expect(answers).to_contain_text("giay-chung-sinh.pdf")
    expect(page.locator("#package-steps li")).to_have_count(3)
    page.locator("#file-package").click()

    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Đã nộp hồ sơ liên thông")
    code = page.locator("#package-code").inner_text()
    assert code, "no package code on the confirmation"
    # One appointment for the whole group, within its three working days.
    expect(page.locator("#due-on")).to_have_count(1)
    expect(page.locator("#due-on")).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
    expect(page.locator("#next-steps li")).to_have_count(3)
    page.locator("#to-package").click()
    expect(page.locator("#package-code")).to_have_text(code)
    return page.url


def test_a_parent_files_a_birth_package_and_three_agencies_process_it(
    site: str, page: Page, browser: Browser, town: Town, tmp_path: Path
) -> None:
    certificate = pdf(tmp_path, "giay-chung-sinh.pdf", "GIẤY CHỨNG SINH")
    package_url = file_birth_package(page, site, town, certificate)

    # The worker files the first step at the commune; the later ones wait for its result.
    run_queue()
    page.reload()
    expect(page.locator("#package-status")).to_have_text("Đang giải quyết")
    expect(step_row(page, 1)).to_contain_text("Đang giải quyết")
    expect(step_row(page, 2)).to_contain_text("Chờ bước trước")
    expect(step_row(page, 3)).to_contain_text("Chờ bước trước")
    birth_code = step_code(page, 1)

    # The commune's official registers the birth: the new PIN is on the dossier page.
    commune = official_signs_in(browser, site, town.officials[AgencyKind.COMMUNE])
    process(commune, site, birth_code, town.officials[AgencyKind.COMMUNE], until="issue_result")
    issue = form_fields(commune, "issue_result")
    action_url = site + str(commune.locator("#action-issue_result").get_attribute("action"))
    take_step(commune, "issue_result")
    expect(commune.locator("#status")).to_contain_text("Đã có kết quả")
    # The same step sent again (a double click, a resent form): refused, nothing registered.
    again = commune.request.post(action_url, form=issue, headers={"Referer": commune.url})
    assert again.status == 409, again.status
    assert len(registry.children_of(actor=SYSTEM, pin=town.mother.pin, purpose=READ)) == 1
    effects = commune.locator("#effects")
    expect(effects).to_contain_text("số định danh cá nhân của trẻ")
    child_pin = re.search(r"\d{12}", effects.inner_text())
    assert child_pin, effects.inner_text()
    commune.context.close()

    # The result feeds the next steps: the police and social insurance get theirs.
    run_queue()
    page.reload()
    expect(step_row(page, 1)).to_contain_text("Đã có kết quả")
    residence_code, card_code = step_code(page, 2), step_code(page, 3)
    for kind, code in (
        (AgencyKind.COMMUNE_POLICE, residence_code),
        (AgencyKind.SOCIAL_INSURANCE, card_code),
    ):
        official = official_signs_in(browser, site, town.officials[kind])
        open_from_queue(official, site, code)
        expect(official.locator("#declaration")).to_contain_text(child_pin[0])
        process(official, site, code, town.officials[kind])
        official.context.close()
    run_queue()

    # The mother: the package completed, the child's PIN on the birth dossier, the child among
    # her e-ID documents.
    page.goto(package_url)
    expect(page.locator("#package-status")).to_have_text("Đã hoàn thành")
    for position in (1, 2, 3):
        expect(step_row(page, position)).to_contain_text("Đã có kết quả")
    step_row(page, 1).get_by_role("link").click()
    expect(page.locator("#dossier-code")).to_have_text(birth_code)
    expect(page.locator("#effects")).to_contain_text(child_pin[0])
    page.goto(site + "/id/tai-khoan/")
    documents = page.locator("#documents")
    expect(documents).to_contain_text(CHILD)
    expect(documents).to_contain_text((timezone.localdate() - timedelta(days=2)).strftime("%d/%m"))

    # What the records say: one child, in the household, with one health card; three dossiers.
    child = registry.citizen_get(actor=SYSTEM, pin=child_pin[0], purpose=READ)
    assert child.full_name == CHILD and child.mother_pin == town.mother.pin
    members = registry.household_of(actor=SYSTEM, pin=child_pin[0], purpose=READ).members
    assert child_pin[0] in {m.pin for m in members}
    assert len(health_cards_of(actor=SYSTEM, pin=child_pin[0], purpose=READ)) == 1
    assert Dossier.objects.filter(applicant_pin=town.mother.pin).count() == 3
    assert Package.objects.get().status == "completed"


def test_a_refused_step_tells_the_citizen_which_step_failed_and_why(
    site: str, page: Page, browser: Browser, town: Town, tmp_path: Path
) -> None:
    certificate = pdf(tmp_path, "giay-chung-sinh.pdf", "GIẤY CHỨNG SINH")
    package_url = file_birth_package(page, site, town, certificate)
    run_queue()
    page.reload()
    birth_code = step_code(page, 1)
    reason = "Giấy chứng sinh không đọc được, số giấy không khớp với sổ của bệnh viện"

    commune = official_signs_in(browser, site, town.officials[AgencyKind.COMMUNE])
    open_from_queue(commune, site, birth_code)
    take_step(commune, "receive")
    take_step(commune, "reject", note=reason)
    expect(commune.locator("#status")).to_contain_text("Từ chối")
    commune.context.close()
    run_queue()

    page.goto(package_url)
    expect(page.locator("#package-status")).to_have_text("Dừng vì một bước bị từ chối")
    banner = page.locator("#failed-step")
    expect(banner).to_contain_text("Bước 1 «Đăng ký khai sinh» bị từ chối")
    expect(banner).to_contain_text(f"Lý do: {reason}")
    stopped = page.locator("#stopped-steps li")
    expect(stopped).to_have_count(2)
    expect(stopped.nth(0)).to_have_text("Đăng ký thường trú")
    expect(stopped.nth(1)).to_have_text("Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi")
    expect(step_row(page, 1)).to_contain_text("Bị từ chối")
    for position in (2, 3):
        expect(step_row(page, position)).to_contain_text("Không thực hiện")
    expect(page.locator("#withdraw-link")).to_have_count(0)  # nothing left to withdraw

    # Nothing written past the refusal: no child, no residence or card dossier.
    assert Dossier.objects.filter(applicant_pin=town.mother.pin).count() == 1
    assert not PackageStep.objects.filter(position__in=(2, 3), dossier__isnull=False).exists()
    assert not registry.children_of(actor=SYSTEM, pin=town.mother.pin, purpose=READ)


def test_a_death_package_with_the_funeral_allowance(
    site: str, page: Page, browser: Browser, town: Town, tmp_path: Path
) -> None:
    father = town.father
    insured_register(actor=SYSTEM, pin=father.pin, standing="pensioner", since=date(2015, 1, 1))
    notice = pdf(tmp_path, "giay-bao-tu.pdf", "GIẤY BÁO TỬ")
    died = timezone.localdate() - timedelta(days=1)

    # Before: the father signs in to his e-ID account (his own browser).
    his = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh").new_page()
    his.goto(site + "/id/tai-khoan/")
    citizen_signs_in(his, father)
    expect(his.get_by_role("heading", level=1)).to_have_text(father.full_name)

    # The spouse files the death package: the death, the residence, the funeral allowance.
    page.goto(site + "/lien-thong/death/")
    citizen_signs_in(page, town.mother)
    expect(page).to_have_url(site + "/lien-thong/death/")
    form = page.locator("#package-form")
    for step in ("death", "residence_delete", "funeral"):
        form.locator(f'[name="steps"][value="{step}"]').check()
    form.locator('[name="nguoi_chet_pin"]').fill(father.pin)
    form.locator('[name="nguoi_chet_ho_ten"]').fill(father.full_name)
    fill_date(page, "ngay_chet", died)
    form.locator('[name="noi_chet"]').fill("Bệnh viện Đa khoa tỉnh")
    form.locator('[name="nguyen_nhan_chet"]').fill("Bệnh tim")
    form.locator('[name="quan_he"][value="vo_chong"]').check()
    form.locator('[name="so_tai_khoan"]').fill("0123456789")
    form.locator('[name="ngan_hang"]').fill("Ngân hàng Nông nghiệp")
    form.locator('[name="file_giay_bao_tu"]').set_input_files(notice)
    form.locator("#continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra thông tin trước khi nộp")
    expect(page.locator("#package-steps li")).to_have_count(3)
    page.locator("#file-package").click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Đã nộp hồ sơ liên thông")
    page.locator("#to-package").click()
    package_url = page.url

    run_queue()
    page.reload()
    death_code = step_code(page, 1)
    commune = official_signs_in(browser, site, town.officials[AgencyKind.COMMUNE])
    process(commune, site, death_code, town.officials[AgencyKind.COMMUNE])
    expect(commune.locator("#effects")).to_contain_text(father.pin)
    commune.context.close()

    run_queue()
    page.reload()
    expect(step_row(page, 1)).to_contain_text("Đã có kết quả")
    deletion_code, allowance_code = step_code(page, 2), step_code(page, 3)
    expect(step_row(page, 3)).to_contain_text("Bảo hiểm xã hội")  # a pensioner: social insurance
    for kind, code in (
        (AgencyKind.COMMUNE_POLICE, deletion_code),
        (AgencyKind.SOCIAL_INSURANCE, allowance_code),
    ):
        official = official_signs_in(browser, site, town.officials[kind])
        process(official, site, code, town.officials[kind])
        official.context.close()
    run_queue()

    page.goto(package_url)
    expect(page.locator("#package-status")).to_have_text("Đã hoàn thành")
    for position in (1, 2, 3):
        expect(step_row(page, position)).to_contain_text("Đã có kết quả")

    # The deceased's e-ID: his open session ended, and signing in again is refused.
    his.goto(site + "/id/tai-khoan/")
    expect(his.locator('[name="pin"]')).to_be_visible()
    login = his.locator("form", has=his.locator('[name="pin"]'))
    login.locator('[name="pin"]').fill(father.pin)
    login.locator('[name="password"]').fill(PASSWORD)
    login.locator('button[type="submit"]').click()
    expect(his.locator("body")).to_contain_text("Tài khoản đã đóng vì công dân đã mất")
    expect(his.locator('[name="code"]')).to_have_count(0)
    his.context.close()

    record = registry.citizen_get(actor=SYSTEM, pin=father.pin, purpose=READ)
    assert record.status == "deceased"
    assert not [r for r in record.residences if r.kind == "permanent" and r.valid_to is None]
    decisions = benefit_decisions_of(actor=SYSTEM, pin=father.pin, purpose=READ)
    assert [d.kind for d in decisions] == ["funeral"]


def renewal_offered(town: Town) -> Person:
    """Someone whose ID card must be renewed at 25 in ten days, with a level-2 e-ID; the scan
    offers the renewal."""
    birthday = registry.add_years(timezone.localdate() + timedelta(days=10), -25)
    citizen = make_citizen(full_name="Trần Văn Bình", birth_date=birthday)
    idcard_issue(actor=OFFICIAL, pin=citizen.pin, issued_on=registry.add_years(birthday, 21))
    residence_move(
        actor=OFFICIAL,
        pin=citizen.pin,
        move=ResidenceMove(
            kind="permanent",
            since=birthday + timedelta(days=1),
            ward=town.family.world.wards[0].key,
            address="Số 12 đường Trần Phú",
        ),
    )
    person = login_of(citizen)
    services.offers_scan()
    return person


RENEWAL_CHECK = re.compile(r"/thu-tuc/2\.001195/nop/kiem-tra/\?nhap=[0-9a-f]{32}$")


def accept_renewal(page: Page, site: str, person: Person) -> None:
    """On the offers page (which asks only level 1), press the renewal offer's button; filing a
    renewal needs level 2, so the provider asks for the second factor on the way."""
    if not page.url.endswith("/dich-vu-chu-dong/"):
        page.goto(site + "/dich-vu-chu-dong/")
    offer = page.locator(".govuk-summary-card", has_text="Thẻ căn cước của bạn sắp đến hạn đổi")
    offer.locator('button[id^="accept-"]').click()
    page.wait_for_url(re.compile(r"/id/|/o/|/thu-tuc/2\.001195/"))
    if "/thu-tuc/" not in page.url:
        citizen_signs_in(page, person)
    page.wait_for_load_state()


def test_a_proactive_offer_accepted_into_a_dossier(site: str, page: Page, town: Town) -> None:
    person = renewal_offered(town)
    page.goto(site + "/dich-vu-chu-dong/")
    citizen_signs_in(page, person)
    expect(page).to_have_url(site + "/dich-vu-chu-dong/")
    offer = page.locator(".govuk-summary-card", has_text="Thẻ căn cước của bạn sắp đến hạn đổi")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text("Bạn đủ 25 tuổi ngày")
    expect(offer).to_contain_text("Cấp đổi thẻ căn cước")
    expect(offer.get_by_role("button")).to_contain_text("Nhận và kiểm tra hồ sơ đã điền sẵn")

    accept_renewal(page, site, person)

    # The check page, filled in from the registry: one click files it.
    expect(page).to_have_url(RENEWAL_CHECK)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra thông tin trước khi nộp")
    expect(page.locator("#answers")).to_contain_text(person.pin)
    assert Dossier.objects.filter(applicant_pin=person.pin).count() == 0
    page.get_by_role("button", name="Xác nhận và nộp hồ sơ").click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Đã nộp hồ sơ")
    code = page.locator("#receipt-code").inner_text()

    dossier = Dossier.objects.get(applicant_pin=person.pin)
    assert (dossier.code, dossier.procedure_code) == (code, "2.001195")
    assert dossier.declaration["ly_do_doi"] == "du_tuoi"
    assert dossier.fee_exemption == "doi_the_theo_tuoi"
    page.goto(site + "/dich-vu-chu-dong/")
    expect(page.locator(".govuk-summary-card", has_text=code)).to_contain_text("Đã nhận")


def test_an_offer_accepted_at_level_1_comes_back_to_its_prefilled_check_page(
    site: str, page: Page, town: Town
) -> None:
    person = renewal_offered(town)
    page.goto(site + "/dich-vu-chu-dong/")
    citizen_signs_in(page, person)
    accept_renewal(page, site, person)
    expect(page).to_have_url(RENEWAL_CHECK)


def test_a_declaration_naming_a_missing_or_dead_mother_is_refused_on_the_page(
    site: str, page: Page, town: Town, tmp_path: Path
) -> None:
    """On the plain birth registration form: a grandmother files for the child; the mother's
    PIN is first one nobody has, then a dead woman's. Each time the error stands beside that
    field and nothing is filed."""
    grandmother = make_citizen(full_name="Lê Thị Bà", sex="F", birth_date=date(1960, 2, 2))
    residence_move(
        actor=OFFICIAL,
        pin=grandmother.pin,
        move=ResidenceMove(
            kind="permanent",
            since=date(2000, 1, 1),
            ward=town.family.world.wards[0].key,
            address="Số 3 đường Lê Lợi",
        ),
    )
    applicant = login_of(grandmother)
    dead = make_citizen(
        full_name="Lê Thị Mận", sex="F", birth_date=date(1994, 1, 1), death_date=date(2025, 1, 1)
    )
    nobody = "001195000999"  # a well-formed woman's PIN nobody has
    certificate = pdf(tmp_path, "giay-chung-sinh.pdf", "GIẤY CHỨNG SINH")

    page.goto(site + "/thu-tuc/1.001193/nop/")
    citizen_signs_in(page, applicant)
    expect(page).to_have_url(site + "/thu-tuc/1.001193/nop/")
    form = page.locator("#submit-form")
    form.locator('[name="ho_ten_tre"]').fill(CHILD)
    form.locator('[name="gioi_tinh"]').select_option("M")
    fill_date(page, "ngay_sinh", timezone.localdate() - timedelta(days=3))
    form.locator('[name="noi_sinh"]').fill("Bệnh viện Phụ sản tỉnh")
    form.locator('[name="dan_toc"]').fill("Kinh")
    form.locator('[name="quan_he_nguoi_yeu_cau"]').select_option("nguoi_than_khac")
    form.locator('[name="file_giay_chung_sinh"]').set_input_files(certificate)

    for pin, message in (
        (nobody, f"Không có công dân với số định danh {nobody}"),
        (dead.pin, f"Người có số định danh {dead.pin} đã được khai tử"),
    ):
        page.locator("#submit-form").locator('[name="me_pin"]').fill(pin)
        page.locator("#submit-form").get_by_role("button", name="Tiếp tục").click()
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary.locator('a[href="#id_me_pin"]')).to_contain_text(message)
        expect(page.locator("#id_me_pin-error")).to_contain_text(message)
        expect(page.locator('[name="me_pin"]')).to_have_value(pin)  # what she typed, kept
        expect(page.locator('[name="ho_ten_tre"]')).to_have_value(CHILD)
        assert Dossier.objects.filter(applicant_pin=applicant.pin).count() == 0
    assert not Dossier.objects.exists()
