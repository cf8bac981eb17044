"""Passkeys as a second factor, in Chromium with its virtual authenticator (CDP's WebAuthn
domain): a citizen adds one after proving the authenticator app and signs in with it to
level 2; adding one on a password-only session, asserting with another account's passkey and
replaying an assertion are all refused. Plus the officials' rule at the registration endpoint."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Page, Route, expect

from motcua.core.models import AuditEntry
from motcua.identity.models import Account, LoginAttempt
from motcua.identity.tests.factories import PASSWORD, Person, make_person, signed_in
from motcua.web.tests.staff import code_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ADD = "/id/tai-khoan/khoa-truy-cap/them/"
SECOND_FACTOR = "/id/xac-thuc-2-lop/"
ACCOUNT = "/id/tai-khoan/"
REGISTER_BEGIN = "/id/khoa-truy-cap/dang-ky/bat-dau/"
REGISTER_COMPLETE = "/id/khoa-truy-cap/dang-ky/hoan-tat/"
AUTH_BEGIN = "/id/khoa-truy-cap/xac-thuc/bat-dau/"
AUTH_COMPLETE = "/id/khoa-truy-cap/xac-thuc/hoan-tat/"


@pytest.fixture
def authenticator(page: Page) -> tuple[Any, str]:
    """A platform authenticator with user verification, as a phone or a laptop has."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _user_id(person: Person) -> int:
    return int(Account.objects.get(pin=person.pin).user_id)


def _sign_in(page: Page, site: str, pin: str) -> None:
    page.goto(site + "/id/dang-nhap/")
    page.get_by_label("Số định danh cá nhân").fill(pin)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    expect(page).not_to_have_url(site + "/id/dang-nhap/")


def _sign_out(page: Page, site: str) -> None:
    page.goto(site + ACCOUNT)
    page.once("dialog", lambda dialog: dialog.accept())  # "Bạn muốn đăng xuất?"
    page.get_by_role("button", name="Đăng xuất", exact=True).first.click()
    expect(page).to_have_url(site + "/id/dang-nhap/")


def _session_level(page: Page, site: str) -> str:
    page.goto(site + ACCOUNT)
    return page.locator("#session-level").get_attribute("data-level") or ""


def _add_passkey(page: Page, site: str) -> None:
    """On the add page (the gate already passed): create a passkey in the authenticator."""
    expect(page).to_have_url(site + ADD)
    with page.expect_response(lambda r: REGISTER_COMPLETE in r.url) as done:
        page.get_by_role("button", name="Tạo khoá truy cập").click()
    assert done.value.status == 200, done.value.text()
    expect(page.locator("#passkey-register-status-message")).to_contain_text("successful")


def _csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token, "Content-Type": "application/json"}


def _use_passkey(page: Page) -> Any:
    """Click "use a passkey" at the second-factor step; returns the completion response."""
    with page.expect_response(lambda r: AUTH_COMPLETE in r.url) as done:
        page.get_by_role("button", name="Dùng khoá truy cập").click()
    return done.value


def test_a_citizen_adds_a_passkey_after_totp_and_signs_in_with_it_to_level_2(
    site: str, page: Page, authenticator: tuple[Any, str]
) -> None:
    person = make_person(level=2, full_name="Lê Văn Khoá")
    cdp, authenticator_id = authenticator
    _sign_in(page, site, person.pin)
    assert _session_level(page, site) == "1"

    page.goto(site + ADD)  # a factor change: prove the authenticator app first
    expect(page).to_have_url(
        f"{site}{SECOND_FACTOR}?next=%2Fid%2Ftai-khoan%2Fkhoa-truy-cap%2Fthem%2F&reauth=1"
    )
    page.get_by_label("Mã xác thực").fill(person.totp_now())
    page.get_by_role("button", name="Xác thực", exact=True).click()
    _add_passkey(page, site)

    stored = WebAuthnCredential.objects.get(user_id=_user_id(person))
    assert stored.confirmed and stored.credential_id
    [in_authenticator] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert in_authenticator["rpId"] == "localhost"
    assert AuditEntry.objects.filter(action="factor.passkey_added", object_id=person.pin).exists()
    page.get_by_role("link", name="Xong, quay lại danh sách khoá truy cập").click()
    expect(page.locator("#passkeys")).to_contain_text("Khoá truy cập")

    _sign_out(page, site)
    _sign_in(page, site, person.pin)
    assert _session_level(page, site) == "1"
    page.goto(f"{site}{SECOND_FACTOR}?next={ACCOUNT}")
    answer = _use_passkey(page)
    assert answer.status == 200, answer.text()
    expect(page).to_have_url(site + ACCOUNT)
    assert _session_level(page, site) == "2"
    assert LoginAttempt.objects.filter(
        account__pin=person.pin, success=True, outcome="passkey"
    ).exists()
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_attack_add_a_passkey_with_a_password_only_session_is_refused(
    site: str, page: Page, authenticator: tuple[Any, str]
) -> None:
    """Whoever has only the password (acr 1, no fresh factor) cannot add a passkey: the page
    sends them to the existing factor, and the endpoints refuse even the first step."""
    victim = make_person(level=2, full_name="Phạm Thị Nạn Nhân")
    _sign_in(page, site, victim.pin)

    page.goto(site + ADD)
    expect(page).to_have_url(re_second_factor(site))

    begin = page.request.post(site + REGISTER_BEGIN, headers=_csrf(page))
    assert begin.status == 403 and begin.json()["code"] == "reauthentication_required"
    complete = page.request.post(
        site + REGISTER_COMPLETE,
        headers=_csrf(page),
        data=json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}),
    )
    assert complete.status in (400, 403)

    assert not WebAuthnCredential.objects.filter(user_id=_user_id(victim)).exists()
    assert not AuditEntry.objects.filter(action="factor.passkey_added").exists()


def re_second_factor(site: str) -> re.Pattern[str]:
    return re.compile(re.escape(site + SECOND_FACTOR) + r"\?.*reauth=1")


def test_attack_assert_with_another_accounts_passkey_is_refused(
    site: str, page: Page, authenticator: tuple[Any, str]
) -> None:
    """The attacker knows the victim's password and holds a passkey of their own account; at
    the victim's second-factor step they make the browser use it (the options rewritten to
    allow any credential). The server refuses: the credential is not the victim's."""
    attacker = make_person(level=1, full_name="Kẻ Tấn Công")
    _sign_in(page, site, attacker.pin)  # no factor yet: the first one after a fresh password
    page.goto(site + ADD)
    _add_passkey(page, site)
    attacker_credential = WebAuthnCredential.objects.get(user_id=_user_id(attacker))
    _sign_out(page, site)

    victim = make_person(level=2, full_name="Phạm Thị Nạn Nhân")
    _fake_passkey(_user_id(victim))  # the victim's own passkey, on the victim's phone
    _sign_in(page, site, victim.pin)
    page.goto(f"{site}{SECOND_FACTOR}?next={ACCOUNT}")

    def any_credential(route: Route) -> None:
        response = route.fetch()
        options = response.json()
        options["allowCredentials"] = []
        route.fulfill(response=response, json=options)

    page.route(f"**{AUTH_BEGIN}", any_credential)
    answer = _use_passkey(page)
    sent = json.loads(answer.request.post_data or "{}")
    assert _raw_id(sent) == bytes(attacker_credential.credential_id)  # the attacker's passkey
    assert answer.status == 403 and answer.json()["code"] == "credential_user_mismatch"
    assert _session_level(page, site) == "1"
    assert not LoginAttempt.objects.filter(account__pin=victim.pin, outcome="passkey").exists()


def _raw_id(credential: dict[str, Any]) -> bytes:
    raw = credential["rawId"]
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def test_attack_replay_a_passkey_assertion_is_refused(
    site: str, page: Page, authenticator: tuple[Any, str]
) -> None:
    """An assertion captured from an earlier sign-in (its challenge already used) raises no
    session: neither on its own nor against a fresh challenge."""
    person = make_person(level=2, full_name="Đỗ Văn Phát Lại")
    _sign_in(page, site, person.pin)
    page.goto(site + ADD)
    page.get_by_label("Mã xác thực").fill(person.totp_now())
    page.get_by_role("button", name="Xác thực", exact=True).click()
    _add_passkey(page, site)
    _sign_out(page, site)

    _sign_in(page, site, person.pin)
    page.goto(f"{site}{SECOND_FACTOR}?next={ACCOUNT}")
    genuine = _use_passkey(page)
    assert genuine.status == 200
    captured = genuine.request.post_data or ""
    expect(page).to_have_url(site + ACCOUNT)
    assert _session_level(page, site) == "2"
    _sign_out(page, site)

    _sign_in(page, site, person.pin)
    assert _session_level(page, site) == "1"
    again = page.request.post(site + AUTH_COMPLETE, headers=_csrf(page), data=captured)
    assert again.status == 400 and again.json()["code"] == "invalid_state"
    begin = page.request.post(site + AUTH_BEGIN, headers=_csrf(page))
    assert begin.status == 200
    again = page.request.post(site + AUTH_COMPLETE, headers=_csrf(page), data=captured)
    assert again.status == 422 and again.json()["code"] == "invalid_authentication_response"
    assert _session_level(page, site) == "1"
    assert LoginAttempt.objects.filter(account__pin=person.pin, outcome="passkey").count() == 1


def test_an_official_may_start_adding_a_passkey_only_in_a_second_factor_verified_session(
    client: Client,
) -> None:
    official = get_user_model().objects.create_user(
        username="canbo.passkey", password=PASSWORD, is_staff=True
    )
    totp = TOTPDevice.objects.create(user=official, name="Ứng dụng xác thực", confirmed=True)
    client.force_login(official)  # the password only

    refused = client.post(REGISTER_BEGIN)
    assert refused.status_code == 403
    assert client.get(ADD).status_code == 403

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp.persistent_id  # the back office's TOTP step passed
    session.save()
    begun = client.post(REGISTER_BEGIN)
    assert begun.status_code == 200
    assert begun.json()["rp"]["id"] == "localhost"
    assert begun.json()["user"]["name"] == "canbo.passkey"


def _fake_passkey(user_id: int) -> WebAuthnCredential:
    """A passkey held elsewhere (its key is never used here)."""
    return WebAuthnCredential.objects.create(
        user_id=user_id,
        name="Khoá truy cập / passkey",
        credential_id=os.urandom(32),
        public_key=os.urandom(77),
        aaguid="00000000-0000-0000-0000-000000000000",
        confirmed=True,
    )


def test_attack_remove_a_passkey_with_a_password_only_session_is_refused(client: Client) -> None:
    victim = make_person(level=2, full_name="Phạm Thị Nạn Nhân")
    passkey = _fake_passkey(_user_id(victim))
    signed_in(client, victim)  # the password only

    url = f"/id/tai-khoan/khoa-truy-cap/{passkey.pk}/xoa/"
    answer = client.post(url)
    assert answer.status_code == 302 and answer["Location"].startswith(SECOND_FACTOR)
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert not AuditEntry.objects.filter(action="factor.passkey_removed").exists()

    # after proving the authenticator app, the person removes it (and is told)
    proved = client.post(f"{SECOND_FACTOR}?next={url}", {"code": victim.totp_now(), "next": url})
    assert proved.status_code == 302 and proved["Location"] == url
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEntry.objects.filter(action="factor.passkey_removed", object_id=victim.pin).exists()


def test_the_last_second_factor_cannot_be_removed(client: Client) -> None:
    person = make_person(level=2)
    passkey = _fake_passkey(_user_id(person))
    signed_in(client, person)
    client.post(SECOND_FACTOR, {"code": person.totp_now(), "next": ACCOUNT})
    TOTPDevice.objects.filter(user_id=_user_id(person)).delete()  # only the passkey is left

    answer = client.post(f"/id/tai-khoan/khoa-truy-cap/{passkey.pk}/xoa/")
    assert answer.status_code == 422
    assert "yếu tố xác thực duy nhất" in answer.content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_someone_elses_passkey_cannot_be_removed(client: Client) -> None:
    owner, other = make_person(level=2), make_person(level=2, full_name="Người Khác")
    passkey = _fake_passkey(_user_id(owner))
    signed_in(client, other)
    client.post(SECOND_FACTOR, {"code": other.totp_now(), "next": ACCOUNT})
    answer = client.post(f"/id/tai-khoan/khoa-truy-cap/{passkey.pk}/xoa/")
    assert answer.status_code == 404
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_an_official_adds_a_passkey_and_signs_in_to_the_back_office_with_it(
    site: str, page: Page, authenticator: tuple[Any, str]
) -> None:
    official = get_user_model().objects.create_user(
        username="canbo.khoa", password=PASSWORD, is_staff=True
    )
    totp = TOTPDevice.objects.create(user=official, name="Ứng dụng xác thực", confirmed=True)

    def password_step() -> None:
        page.goto(site + "/can-bo/dang-nhap/")
        page.locator("input[name=username]").fill("canbo.khoa")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        expect(page).to_have_url(site + "/can-bo/dang-nhap/ma-xac-thuc/")

    password_step()
    page.locator("input[name=code]").fill(code_now(totp))
    page.locator("input[name=code]").press("Enter")
    expect(page).to_have_url(site + "/can-bo/")
    page.goto(site + ADD)
    _add_passkey(page, site)

    page.context.clear_cookies()  # another day, another session
    password_step()
    with page.expect_response(
        lambda r: "/can-bo/dang-nhap/khoa-truy-cap/hoan-tat/" in r.url
    ) as done:
        page.get_by_role("button", name="Dùng khoá truy cập").click()
    assert done.value.status == 200, done.value.text()
    expect(page).to_have_url(site + "/can-bo/")
    assert AuditEntry.objects.filter(action="factor.passkey_added").exists()


def test_attack_the_staff_passkey_step_without_the_password_step_is_refused(
    client: Client,
) -> None:
    official = get_user_model().objects.create_user(
        username="canbo.khoa2", password=PASSWORD, is_staff=True
    )
    _fake_passkey(official.pk)
    begun = client.post("/can-bo/dang-nhap/khoa-truy-cap/bat-dau/")
    assert begun.status_code in (401, 403)
    assert "_auth_user_id" not in client.session
