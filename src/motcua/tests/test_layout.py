"""The glue every page shares: the language (Vietnamese unless English was chosen), the error
pages in the layout, the favicon, money and dates by locale, and the day/month/year field."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import pytest
from django import forms
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from motcua.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from motcua.core.forms import DayMonthYearField
from motcua.core.middleware import DomainErrorMiddleware
from motcua.core.templatetags.motcua import money

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[1]


def test_vietnamese_even_when_the_browser_asks_for_english(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "vi"
    assert '<html lang="vi"' in page.content.decode()
    assert "Chuyển đến nội dung chính" in page.content.decode()


def test_the_switch_remembers_english_and_back(client: Client) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/thu-tuc/"})
    assert switched.status_code == 302 and switched["Location"] == "/thu-tuc/"
    page = client.get("/thu-tuc/").content.decode()
    assert '<html lang="en"' in page and "Skip to main content" in page
    assert "Chuyển đến nội dung chính" not in page  # never both languages side by side
    client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    assert '<html lang="vi"' in client.get("/").content.decode()


def test_attack_language_switch_refuses_a_foreign_next(client: Client) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert "evil.example" not in switched.get("Location", "")


def test_attack_language_switch_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/i18n/setlang/", {"language": "en"}).status_code == 403


def test_attack_unknown_language_cookie_falls_back_to_vietnamese(client: Client) -> None:
    client.cookies["django_language"] = "xx"
    assert client.get("/")["Content-Language"] == "vi"


def test_not_found_page_in_the_layout_in_vietnamese(client: Client) -> None:
    page = client.get("/khong-co-trang-nay/")
    html = page.content.decode()
    assert page.status_code == 404
    assert "Không tìm thấy trang" in html and '<main class="govuk-main-wrapper"' in html
    assert "1800 1096" in html  # the hotline, in the footer and on the page


def test_favicon_is_served(client: Client) -> None:
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("motcua/favicon.svg")


def _raising(error: Exception) -> HttpResponse:
    request = RequestFactory().get("/ho-so/1/")
    request.session = {}  # type: ignore[assignment]
    middleware = DomainErrorMiddleware(lambda r: HttpResponse())
    answer = middleware.process_exception(request, error)
    assert answer is not None
    return answer


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("Không có hồ sơ này"), 404),
        (PermissionDenied("Hồ sơ của người khác"), 403),
        (Conflict("Hồ sơ đã được rút"), 409),
        (ValidationFailed({"pin": "Số định danh gồm 12 chữ số"}), 422),
    ],
)
def test_domain_errors_become_pages_with_their_status(error: Exception, status: int) -> None:
    answer = _raising(error)
    assert answer.status_code == status
    html = answer.content.decode()
    assert str(getattr(error, "message", "")) in html
    assert all(message in html for message in getattr(error, "errors", {}).values())


def test_the_api_keeps_its_own_error_shape() -> None:
    request = RequestFactory().get("/api/registry/citizens/1")
    middleware = DomainErrorMiddleware(lambda r: HttpResponse())
    assert middleware.process_exception(request, NotFound("x")) is None


def _views_modules() -> list[Path]:
    names = ("views.py", "citizen.py", "backoffice.py", "linkage_views.py", "passkeys.py")
    return sorted(p for p in SRC.glob("**/*.py") if p.name in names and "tests" not in p.parts)


@pytest.mark.parametrize("module", _views_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_view_catches_not_found_or_permission_denied_itself(module: Path) -> None:
    caught = [
        (handler.lineno, ast.unparse(handler.type))
        for handler in ast.walk(ast.parse(module.read_text()))
        if isinstance(handler, ast.ExceptHandler)
        and handler.type is not None
        and {"NotFound", "PermissionDenied"}
        & {
            n.id if isinstance(n, ast.Name) else getattr(n, "attr", "")
            for n in ast.walk(handler.type)
        }
    ]
    assert not caught, (
        f"{module.name} maps domain errors itself (DomainErrorMiddleware does): {caught}"
    )


def test_money_by_locale() -> None:
    with translation.override("vi"):
        assert money(200000) == "200.000 đ"
        assert money(0) == "Miễn phí"
    with translation.override("en"):
        assert money(1372000) == "1,372,000 VND"


class _BirthForm(forms.Form):
    born = DayMonthYearField(label="Ngày sinh")


def _typed(day: object, month: object, year: object) -> forms.Form:
    return _BirthForm(data={"born_0": str(day), "born_1": str(month), "born_2": str(year)})


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
def test_any_past_date_typed_as_day_month_year_is_that_date(when: date) -> None:
    form = _typed(when.day, when.month, when.year)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == when


@given(st.integers(min_value=1, max_value=400))
def test_a_date_in_the_future_is_refused(days: int) -> None:
    when = timezone.localdate() + timedelta(days=days)
    form = _typed(when.day, when.month, when.year)
    assert not form.is_valid()
    assert form.errors["born"] == ["Ngày không được ở tương lai"]


@pytest.mark.parametrize(
    ("day", "month", "year"), [(31, 2, 1990), (29, 2, 2023), (31, 4, 1990), ("x", 5, 1990)]
)
def test_a_date_that_does_not_exist_is_refused_in_one_message(
    day: object, month: object, year: object
) -> None:
    form = _typed(day, month, year)
    assert not form.is_valid()
    assert len(form.errors["born"]) == 1


def test_a_missing_part_is_named() -> None:
    form = _BirthForm(data={"born_0": "17", "born_1": "", "born_2": "1956"})
    assert not form.is_valid()
    assert form.errors["born"] == ["Nhập đủ ngày, tháng và năm"]
