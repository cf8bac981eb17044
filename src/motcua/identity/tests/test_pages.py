"""The person's own pages in plain words: "who read my data" one line per look (the agency by
name, the data and the dossier, local time), grouped and paged; the sessions of the account,
this one marked, also after another part of the site gave the session a new id; forms that
show every problem at once and keep a good portrait."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from PIL import Image

from motcua.catalog.tests.factories import agency_make, roles_give
from motcua.core.actors import Actor
from motcua.identity.middleware import EidSessionMiddleware
from motcua.identity.models import Account
from motcua.identity.tests.factories import (
    PASSWORD,
    citizen_with_phone_on_record,
    make_person,
    signed_in,
)

pytestmark = pytest.mark.django_db
DOSSIER = "30088.01.P82-261208-0001"
CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def _official(username: str, agency_name: str, full_name: str) -> Actor:
    agency = agency_make(f"test.{username}", kind="commune_police", name=agency_name)
    user = User.objects.create(
        username=username,
        first_name=full_name.rsplit(" ", 1)[0],
        last_name=full_name.rsplit(" ", 1)[1],
        is_staff=True,
    )
    roles_give(user, agency, "processor")
    return Actor(kind="official", ref=username)


def _read(actor: Actor, pin: str, data: str, purpose: str, at: datetime) -> None:
    """A read at a chosen time (the log is append-only: the row is written with its time)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_accesslog (at, subject_pin, actor, actor_kind, data, purpose)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [at, pin, actor.label, actor.kind, data, purpose],
        )


def _lines(page: Any) -> list[str]:
    html = page.content.decode()
    block = html.split('id="access"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r'<p class="govuk-body govuk-!-margin-bottom-1">(.*?)</p>', block, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in items]


def test_one_look_is_one_line_with_the_agency_the_data_the_dossier_and_the_local_time() -> None:
    person = make_person()
    police = _official("congan.phongmy", "Công an xã Phong Mỹ", "Nguyễn Văn An")
    bank = Actor(kind="partner", ref="Ngân hàng Đồng Tháp")
    look = datetime(2026, 12, 7, 6, 5, tzinfo=UTC)  # 13:05 in Việt Nam
    purpose = f"Giải quyết hồ sơ {DOSSIER}"
    _read(police, person.pin, "registry.citizen", purpose, look)
    _read(police, person.pin, "dossiers.dossier", purpose, look + timedelta(minutes=1))
    _read(police, person.pin, "dossiers.file", purpose, look + timedelta(minutes=3))
    _read(police, person.pin, "registry.citizen", purpose, look + timedelta(hours=2))  # again
    _read(bank, person.pin, "registry.verification", "mở tài khoản", look + timedelta(hours=3))
    client = Client()
    signed_in(client, person)

    page = client.get("/id/tai-khoan/ai-da-xem/")

    assert _lines(page) == [
        "Ngân hàng Đồng Tháp đã xem thông tin xác thực danh tính của bạn, với mục đích: "
        "mở tài khoản (16:05, 07/12/2026)",
        f"Công an xã Phong Mỹ đã xem thông tin nhân thân, cư trú của bạn để giải quyết hồ sơ "
        f"{DOSSIER} (15:05, 07/12/2026)",
        f"Công an xã Phong Mỹ đã xem thông tin nhân thân, cư trú, hồ sơ thủ tục và giấy tờ trong "
        f"hồ sơ của bạn để giải quyết hồ sơ {DOSSIER} (13:08, 07/12/2026)",
    ]
    grouped = page.context["rows"][2]
    assert grouped.reads == 3 and grouped.official == "Nguyễn Văn An"
    assert "Cán bộ: Nguyễn Văn An" in page.content.decode()
    assert "registry.citizen" not in page.content.decode()
    assert "official:" not in page.content.decode()


def test_the_access_log_is_filtered_by_the_readers_name_and_paged() -> None:
    person = make_person()
    police = _official("congan.phongmy", "Công an xã Phong Mỹ", "Nguyễn Văn An")
    start = timezone.now() - timedelta(days=2)
    for n in range(25):  # 25 looks, an hour apart
        _read(
            police,
            person.pin,
            "registry.citizen",
            f"Giải quyết hồ sơ 1.{n}",
            start + timedelta(hours=n),
        )
    client = Client()
    signed_in(client, person)

    first = client.get("/id/tai-khoan/ai-da-xem/")
    second = client.get("/id/tai-khoan/ai-da-xem/", {"trang": 2})

    assert len(first.context["rows"]) == 20 and len(second.context["rows"]) == 5
    assert "trang=2" in first.content.decode()
    assert first.context["rows"][0].dossier == "1.24"
    assert len(client.get("/id/tai-khoan/ai-da-xem/", {"reader": "cong an"}).context["rows"]) == 20
    assert client.get("/id/tai-khoan/ai-da-xem/", {"reader": "ngân hàng"}).context["rows"] == []


def test_the_account_page_lists_this_session_in_words() -> None:
    person = make_person(level=2)
    client = Client(HTTP_USER_AGENT=CHROME_ON_ANDROID)
    signed_in(client, person)

    page = client.get("/id/tai-khoan/")

    [session] = page.context["o"].sessions
    assert session.current and session.device == "Chrome trên Android"
    html = page.content.decode()
    assert "phiên này" in html and "Chrome trên Android" in html
    assert "Mức 2 — đã xác thực tại cơ quan công an" in html
    assert 'data-confirm="Đăng xuất khỏi mọi thiết bị' in html
    assert client.get("/id/tai-khoan/phien/").context["sessions"] == [session]


def test_the_session_stays_listed_when_the_portal_gives_it_a_new_id() -> None:
    """The portal cycles the session's id at its own sign-in (after the e-ID's): the record of
    this browser must follow, or "my sessions" is empty while the person is signed in."""
    person = make_person()
    client = Client(HTTP_USER_AGENT=CHROME_ON_ANDROID)
    signed_in(client, person)
    request = RequestFactory().get("/dang-nhap/xong/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)

    def portal_sign_in(request: HttpRequest) -> HttpResponse:
        request.session.cycle_key()
        return HttpResponse()

    EidSessionMiddleware(portal_sign_in)(request)
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key or ""

    page = client.get("/id/tai-khoan/")

    assert page.status_code == 200
    [session] = page.context["o"].sessions
    assert session.current
    assert "phiên này" in page.content.decode()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def test_registration_shows_every_problem_at_once_and_keeps_the_portrait() -> None:
    pin = citizen_with_phone_on_record()
    client = Client()
    next_year = timezone.localdate().year + 1
    first = client.post(
        "/id/dang-ky/",
        {
            "pin": pin[:11],
            "full_name": "Lê Văn Cường",
            "birth_date_0": "2",
            "birth_date_1": "11",
            "birth_date_2": str(next_year),
            "password": PASSWORD,
            "portrait": SimpleUploadedFile("chan-dung.jpg", _jpeg(), content_type="image/jpeg"),
        },
    )

    assert first.status_code == 200
    form = first.context["form"]
    assert set(form.errors) == {"pin", "birth_date"}  # both at once
    html = first.content.decode()
    assert "govuk-error-summary" in html and 'href="#id_pin"' in html
    assert "hãy nhập lại mật khẩu" in html  # the password is never sent back
    assert PASSWORD not in html
    held = first.context["held"]
    assert held is not None and "chan-dung.jpg" in html and "không cần chọn lại" in html

    second = client.post(
        "/id/dang-ky/",
        {
            "pin": pin,
            "full_name": "Lê Văn Cường",
            "birth_date_0": "2",
            "birth_date_1": "11",
            "birth_date_2": "1988",
            "password": PASSWORD,
            "portrait_token": held.token,
        },
    )

    assert second.status_code == 302, second.context["form"].errors
    assert Account.objects.get(pin=pin).portrait  # the held portrait was filed


def test_a_code_field_asks_for_digits_and_fills_from_the_message() -> None:
    person = make_person(level=2)
    client = Client()
    signed_in(client, person)
    html = client.get("/id/xac-thuc-2-lop/").content.decode()
    code = re.search(r'<input[^>]*name="code"[^>]*>', html)
    assert code is not None
    assert 'inputmode="numeric"' in code.group() and 'autocomplete="one-time-code"' in code.group()
    login = Client().get("/id/dang-nhap/").content.decode()
    assert 'autocomplete="username"' in login and 'autocomplete="current-password"' in login
