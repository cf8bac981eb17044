"""Attacks on the back office's and the admin's sign-in (issue 13, item 4): the sign-in tells a
citizen's right password from a wrong one; an official's password alone opens the back office
and the admin; a session left idle stays open. Each is refused now."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.catalog.tests.factories import Agency
from motcua.dossiers.tests.factories import agencies_ready, agency_of, catalog_ready, make_official
from motcua.web.backoffice import NO_FACTOR, SEEN_KEY
from motcua.web.tests.staff import authenticator, code_now, official_client, sign_in

pytestmark = pytest.mark.django_db
PASSWORD = "x-test-password-1"  # what make_official sets


@pytest.fixture
def commune() -> Agency:
    catalog_ready()
    return agency_of("commune", agencies_ready()[0])


def _answer(username: str, password: str) -> tuple[int, str]:
    page = Client().post(reverse("backoffice:login"), {"username": username, "password": password})
    html = page.content.decode()
    found = 'class="govuk-error-summary"' in html
    errors = html[html.index('class="govuk-error-summary"') :] if found else ""
    return page.status_code, errors[: errors.index("</ul>") + 5] if errors else ""


def test_attack_citizen_password_oracle_at_the_back_office_is_refused(commune: Agency) -> None:
    """A citizen's right password gets exactly the answer of a wrong password, and of an
    unknown account."""
    User.objects.create_user("nguoi.dan", password=PASSWORD)
    right = _answer("nguoi.dan", PASSWORD)
    wrong = _answer("nguoi.dan", "not-the-password")
    unknown = _answer("khong.co.ai", PASSWORD)
    assert right == wrong == unknown
    assert right[0] == 200 and "Sai tên đăng nhập hoặc mật khẩu" in right[1]


def test_attack_official_password_without_second_factor_is_refused(commune: Agency) -> None:
    """The password of an official who has no authenticator opens neither the back office nor
    the admin; the sign-in says to ask the administrator."""
    make_official("mat.khau", commune, "receiver")
    user = User.objects.get(username="mat.khau")
    user.is_superuser = True  # the admin too, if the password were enough
    user.save()
    client = Client()
    answer = client.post(
        reverse("backoffice:login"), {"username": "mat.khau", "password": PASSWORD}
    )
    assert answer.status_code == 200 and str(NO_FACTOR) in answer.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("backoffice:login_code")).status_code == 302

    # Signed in with the password by any other way (the admin's own form, a session from
    # before): still no way in.
    client.force_login(user)
    queue = client.get(reverse("backoffice:queue", args=[commune.pk]))
    assert queue.status_code == 302 and queue["Location"].startswith(reverse("backoffice:login"))
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    assert client.get("/admin/registry/citizen/").status_code == 302
    admin_login = client.post(
        "/admin/login/", {"username": "mat.khau", "password": PASSWORD, "next": "/admin/"}
    )
    assert admin_login.status_code == 200  # the form again, asking for the code
    assert client.get("/admin/").status_code == 302

    # An unconfirmed authenticator (enrolment not finished) is no second factor either.
    TOTPDevice.objects.create(user=user, name="pending", confirmed=False)
    again = Client().post(
        reverse("backoffice:login"), {"username": "mat.khau", "password": PASSWORD}
    )
    assert str(NO_FACTOR) in again.content.decode()


def test_attack_wrong_codes_at_the_second_step_are_refused(commune: Agency) -> None:
    make_official("doan.ma", commune, "receiver")
    device = authenticator(User.objects.get(username="doan.ma"))
    client = Client()
    client.post(reverse("backoffice:login"), {"username": "doan.ma", "password": PASSWORD})
    right = code_now(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused = client.post(reverse("backoffice:login_code"), {"code": wrong})
    assert (
        refused.status_code == 422
        and "Mã xác thực không đúng hoặc đã hết hạn" in refused.content.decode()
    )
    assert "_auth_user_id" not in client.session
    for _ in range(4):
        last = client.post(reverse("backoffice:login_code"), {"code": wrong})
    # Five wrong codes: back to the password, and the right code no longer helps.
    assert last.status_code == 302 and last["Location"] == reverse("backoffice:login")
    late = client.post(reverse("backoffice:login_code"), {"code": right})
    assert late.status_code == 302 and "_auth_user_id" not in client.session


def test_the_admin_opens_with_the_second_factor(commune: Agency) -> None:
    user = User.objects.create_superuser("quantri", password=PASSWORD)
    device = authenticator(user)
    client = Client()
    signed = client.post(
        "/admin/login/",
        {
            "username": "quantri",
            "password": PASSWORD,
            "otp_token": code_now(device),
            "next": "/admin/",
        },
    )
    assert signed.status_code == 302, signed.content.decode()
    assert client.get("/admin/").status_code == 200
    assert official_client(user).get("/admin/registry/citizen/").status_code == 200


def test_the_back_office_returns_to_the_page_asked_for_and_nowhere_else(commune: Agency) -> None:
    make_official("ve.dung", commune, "receiver")
    authenticator(User.objects.get(username="ve.dung"))
    queue = reverse("backoffice:queue", args=[commune.pk])
    client = Client()
    assert sign_in(client, "ve.dung", PASSWORD, next_url=queue)["Location"] == queue
    elsewhere = Client()
    TOTPDevice.objects.filter(user__username="ve.dung").update(last_t=-1)  # the code again
    landed = sign_in(elsewhere, "ve.dung", PASSWORD, next_url="https://evil.example/")
    assert landed["Location"] == reverse("backoffice:start")


def test_attack_stale_staff_session_is_refused(commune: Agency) -> None:
    """A session left 31 minutes without a request is ended: back office and admin alike."""
    make_official("bo.quen", commune, "receiver")
    user = User.objects.get(username="bo.quen")
    user.is_superuser = True
    user.save()
    queue = reverse("backoffice:queue", args=[commune.pk])
    for url, login in ((queue, reverse("backoffice:login")), ("/admin/", "/admin/login/")):
        client = official_client(user)
        assert client.get(url).status_code == 200  # fresh: in
        session = client.session
        session[SEEN_KEY] = time.time() - 31 * 60
        session.save()
        stale = client.get(url)
        assert stale.status_code == 302 and stale["Location"].startswith(login), url
        assert "_auth_user_id" not in client.session
        assert client.get(url).status_code == 302  # signed out, not just turned away once

    # 29 minutes is still within the limit.
    client = official_client(user)
    session = client.session
    session[SEEN_KEY] = time.time() - 29 * 60
    session.save()
    assert client.get(queue).status_code == 200


def test_attack_guessing_codes_at_the_second_step_meets_the_shared_throttle(
    commune: Agency, settings: object
) -> None:
    """Wrong codes count in the one throttle of every password check: once it is reached, even
    the right code is refused from that address."""
    settings.LOGIN_LIMITS = {  # type: ignore[attr-defined]
        **settings.LOGIN_LIMITS,  # type: ignore[attr-defined]
        "pair": {"limit": 2, "window_s": 900},
    }
    make_official("doan.ma", commune, "receiver")
    device = authenticator(User.objects.get(username="doan.ma"))
    client = Client(REMOTE_ADDR="10.8.0.1")
    client.post(reverse("backoffice:login"), {"username": "doan.ma", "password": PASSWORD})
    wrong = "000000" if code_now(device) != "000000" else "111111"
    for _ in range(2):
        client.post(reverse("backoffice:login_code"), {"code": wrong})
    refused = client.post(reverse("backoffice:login_code"), {"code": code_now(device)})
    assert refused.status_code == 422 and "_auth_user_id" not in client.session
