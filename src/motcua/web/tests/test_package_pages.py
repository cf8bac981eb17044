"""The portal's linked-package pages (Decree 63/2024): the birth form shows what the registry
knows and asks only for the child; mistakes are shown at once with what was typed and the file
kept; check your answers, then one package whatever is sent twice; the package followed step by
step, a refused step named with its reason; nobody else's package; withdrawing asks first."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from motcua.dossiers import selectors, services
from motcua.dossiers.tests.factories import Person, as_citizen, pdf_file
from motcua.dossiers.tests.family import Family, birth_package, family_ready
from motcua.dossiers.tests.helpers import act
from motcua.registry.tests.factories import make_citizen
from motcua.web.package_forms import months_before
from motcua.web.portal import SESSION_KEY

pytestmark = pytest.mark.django_db
LEVEL_2 = "urn:motcua:loa:2"
BIRTH_FORM = "/lien-thong/birth/"
BIRTH_CHECK = "/lien-thong/birth/kiem-tra/"
DEATH_FORM = "/lien-thong/death/"


def packages(person: Person) -> list[selectors.PackageView]:
    return selectors.packages_of(actor=as_citizen(person))


def status_of(person: Person, package_id: int) -> str:
    return selectors.package_detail(actor=as_citizen(person), package_id=package_id).status


@pytest.fixture
def family() -> Family:
    return family_ready()


def signed_in(pin: str) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = {
        "sub": f"s-{pin}",
        "pin": pin,
        "name": "",
        "acr": LEVEL_2,
        "id_token": "",
    }
    session.save()
    return client


def birth_form(**changes: Any) -> dict[str, Any]:
    """The birth package form as a browser sends it: the date in three boxes, the certificate."""
    born = timezone.localdate() - timedelta(days=2)
    data: dict[str, Any] = {
        "ho_ten_tre": "Trần Minh Khang",
        "gioi_tinh": "M",
        "ngay_sinh_0": str(born.day),
        "ngay_sinh_1": str(born.month),
        "ngay_sinh_2": str(born.year),
        "noi_sinh": "Bệnh viện Đa khoa tỉnh",
        "file_giay_chung_sinh": pdf_file(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def input_names(page: str) -> set[str]:
    form = page[
        page.index('id="package-form"') : page.index("</form>", page.index('id="package-form"'))
    ]
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form))


def error_of(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field_id}"
    return re.sub(r"<[^>]+>", "", found.group(1))


def check_url(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    location = str(response["Location"])
    assert location.startswith(BIRTH_CHECK + "?nhap=")
    return location


def test_the_birth_form_shows_the_registry_facts_and_asks_only_for_the_child(
    family: Family,
) -> None:
    page = signed_in(family.mother.pin).get(BIRTH_FORM).content.decode()
    facts = page[
        page.index('id="registry-facts"') : page.index("</dl>", page.index("registry-facts"))
    ]
    assert "Lê Thị Ngọc" in facts and "Trần Văn Hùng" in facts  # the mother and the father
    assert "12 Đường Hùng Vương" in facts  # the household's address
    asked = input_names(page) - {"csrfmiddlewaretoken", "idempotency_key"}
    assert asked == {
        "ho_ten_tre",
        "gioi_tinh",
        "ngay_sinh_0",
        "ngay_sinh_1",
        "ngay_sinh_2",
        "noi_sinh",
        "noi_kcb_ban_dau",
        "file_giay_chung_sinh",
    }


def test_the_procedure_page_points_to_the_package(family: Family) -> None:
    page = Client().get("/thu-tuc/1.001193/").content.decode()
    assert 'href="/lien-thong/birth/"' in page
    assert "Nộp liên thông khai sinh – thường trú – thẻ BHYT" in page


def test_errors_keep_the_typed_values_and_the_file(family: Family) -> None:
    client = signed_in(family.mother.pin)
    response = client.post(BIRTH_FORM, birth_form(ho_ten_tre="", noi_sinh="Trạm y tế xã Tân An"))
    page = response.content.decode()
    assert response.status_code == 422
    assert error_of(page, "id_ho_ten_tre").strip().endswith("Nhập họ, chữ đệm và tên của trẻ")
    assert 'value="Trạm y tế xã Tân An"' in page
    token = re.search(r'name="held_file_giay_chung_sinh" value="([^"]+)"', page)
    assert token, "the file sent is not kept for the next try"
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert key is not None

    again = birth_form(file_giay_chung_sinh=None, idempotency_key=key.group(1))
    again["held_file_giay_chung_sinh"] = token.group(1)
    check_url(client.post(BIRTH_FORM, again))  # no file chosen again: the kept one counts


def test_a_birth_date_in_the_future_is_refused_beside_the_field(family: Family) -> None:
    next_year = str(timezone.localdate().year + 1)
    response = signed_in(family.mother.pin).post(BIRTH_FORM, birth_form(ngay_sinh_2=next_year))
    page = response.content.decode()
    assert response.status_code == 422
    assert "Ngày không được ở tương lai" in error_of(page, "id_ngay_sinh")
    assert 'href="#id_ngay_sinh_0"' in page  # the summary leads to the day box
    assert packages(family.mother) == []


def test_a_child_of_six_is_sent_to_the_separate_procedures(family: Family) -> None:
    born = months_before(timezone.localdate(), 72)
    response = signed_in(family.mother.pin).post(
        BIRTH_FORM,
        birth_form(
            ngay_sinh_0=str(born.day), ngay_sinh_1=str(born.month), ngay_sinh_2=str(born.year)
        ),
    )
    assert response.status_code == 422
    assert "dưới 6 tuổi" in error_of(response.content.decode(), "id_ngay_sinh")


@given(
    day=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    months=st.integers(min_value=0, max_value=240),
)
def test_months_before_goes_back_whole_months(day: date, months: int) -> None:
    earlier = months_before(day, months)
    assert (day.year * 12 + day.month) - (earlier.year * 12 + earlier.month) == months
    assert earlier.day == day.day or (earlier.day < day.day and (earlier + timedelta(1)).day == 1)


def test_submitting_twice_with_the_same_draft_is_one_package(family: Family) -> None:
    client = signed_in(family.mother.pin)
    form = birth_form()
    location = check_url(client.post(BIRTH_FORM, form))
    key = location.rsplit("=", 1)[1]

    check = client.get(location).content.decode()
    assert "Trần Minh Khang" in check and "giay-chung-sinh.pdf" in check
    assert "Đăng ký thường trú" in check  # the steps the package will file

    first = client.post(BIRTH_CHECK, {"nhap": key})
    assert first.status_code == 302
    (package,) = packages(family.mother)
    assert first["Location"] == f"/lien-thong/ho-so/{package.id}/da-nop/"
    again = client.post(BIRTH_CHECK, {"nhap": key})  # back, and send again
    assert again["Location"] == first["Location"]
    resent = client.post(BIRTH_FORM, birth_form(idempotency_key=key))  # the form sent again
    assert resent["Location"] == first["Location"]
    assert len(packages(family.mother)) == 1

    done = client.get(first["Location"]).content.decode()
    assert package.code in done
    assert package.due_on.strftime("%d/%m/%Y") in done  # the one appointment


def test_the_death_form_asks_for_two_steps_and_an_account_for_a_benefit(family: Family) -> None:
    response = signed_in(family.mother.pin).post(
        DEATH_FORM,
        {
            "steps": ["funeral"],
            "nguoi_chet_pin": family.father.pin,
            "nguoi_chet_ho_ten": "Trần Văn Hùng",
            "ngay_chet_0": "1",
            "ngay_chet_1": "1",
            "ngay_chet_2": str(timezone.localdate().year),
            "noi_chet": "Bệnh viện Đa khoa tỉnh",
            "nguyen_nhan_chet": "Bệnh",
            "quan_he": "vo_chong",
        },
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Chọn ít nhất 2 việc" in error_of(page, "id_steps")
    assert "Nhập số tài khoản" in error_of(page, "id_so_tai_khoan")
    assert 'value="Bệnh viện Đa khoa tỉnh"' in page
    assert re.search(r'value="funeral"[^>]*checked', page), "the step chosen is not kept"


def test_another_citizens_package_is_not_found(family: Family) -> None:
    filed = birth_package(family)
    stranger = signed_in(make_citizen(full_name="Phạm Văn Lạ", sex="M").pin)
    for path in ("", "da-nop/", "rut/"):
        assert stranger.get(f"/lien-thong/ho-so/{filed.id}/{path}").status_code == 404
    assert stranger.post(f"/lien-thong/ho-so/{filed.id}/rut/").status_code == 404
    assert status_of(family.mother, filed.id) == "running"


def test_a_refused_step_is_named_with_its_reason_and_the_steps_it_stopped(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    first = (
        selectors.package_detail(actor=as_citizen(family.mother), package_id=filed.id)
        .steps[0]
        .dossier_id
    )
    assert first is not None
    desk = family.desks[family.world.commune.pk]
    act(desk.receiver, first, "receive")
    act(desk.approver, first, "reject", note="Giấy chứng sinh không hợp lệ")
    services.package_advance(filed.id)

    page = signed_in(family.mother.pin).get(f"/lien-thong/ho-so/{filed.id}/").content.decode()
    failed = page[page.index('id="failed-step"') : page.index('id="package-steps"')]
    assert "Đăng ký khai sinh" in failed
    assert "Giấy chứng sinh không hợp lệ" in failed
    stopped = failed[failed.index('id="stopped-steps"') :]
    assert "Đăng ký thường trú" in stopped and "bảo hiểm y tế" in stopped
    assert f'href="/ho-so/{first}/"' in page  # the refused step's own dossier
    assert 'id="withdraw-link"' not in page  # nothing left to withdraw


def test_withdrawing_asks_first_then_stops_the_steps(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)
    client = signed_in(family.mother.pin)
    status = client.get(f"/lien-thong/ho-so/{filed.id}/").content.decode()
    assert 'id="withdraw-link"' in status
    ask = client.get(f"/lien-thong/ho-so/{filed.id}/rut/")
    assert ask.status_code == 200
    assert status_of(family.mother, filed.id) == "running"  # asking changes nothing
    done = client.post(f"/lien-thong/ho-so/{filed.id}/rut/")
    assert done["Location"] == f"/lien-thong/ho-so/{filed.id}/"
    assert status_of(family.mother, filed.id) == "withdrawn"


def test_my_dossiers_lists_the_packages_above_the_dossiers(family: Family) -> None:
    filed = birth_package(family)
    services.package_advance(filed.id)  # its first step filed: a dossier of its own
    page = signed_in(family.mother.pin).get("/ho-so/").content.decode()
    assert f'href="/lien-thong/ho-so/{filed.id}/"' in page
    assert page.index('id="my-packages"') < page.index('id="my-dossiers"')
