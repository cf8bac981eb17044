"""The account and login layer attacked as an outsider would (issue 13, items 1-5 and 7, and
the low ones of the e-ID): each test performs the attack and shows that it fails."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pyotp
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from oauth2_provider.models import Application, RefreshToken
from PIL import Image

from motcua.core.actors import Actor
from motcua.core.errors import ValidationFailed
from motcua.core.messaging import OutboxSmsGateway
from motcua.core.models import AccessLog
from motcua.identity import services
from motcua.identity.models import Account, OneTimeCode, RateCounter
from motcua.identity.tests.factories import (
    PASSWORD,
    Person,
    citizen_with_phone_on_record,
    make_person,
    signed_in,
)
from motcua.identity.tests.factories import (
    PHONE_ON_RECORD as PHONE,
)
from motcua.registry.services import citizen_record_death, idcard_issue
from motcua.registry.tests.factories import OFFICIAL, make_citizen

pytestmark = pytest.mark.django_db
ATTACKER_PHONE = "0999999999"
POLICE = Actor(
    kind="official", ref="cong.an.phuong", permissions=frozenset({services.RAISE_PERMISSION})
)


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    OutboxSmsGateway.outbox.clear()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def _register_page(client: Client, pin: str, **changes: str) -> Any:
    data = {
        "pin": pin,
        "full_name": "Lê Văn Cường",
        "birth_date": "1988-11-02",
        "password": PASSWORD,
        "contact": ATTACKER_PHONE,  # an attacker's own number, which the form no longer takes
        **changes,
    }
    year, month, day = data.pop("birth_date").split("-")  # the form's day / month / year boxes
    data.update(birth_date_0=day, birth_date_1=month, birth_date_2=year)
    return client.post("/id/dang-ky/", {**data, "portrait": SimpleUploadedFile("anh.jpg", _jpeg())})


def _codes_sent_to(destination: str) -> int:
    return sum(1 for to, _ in OutboxSmsGateway.outbox if to == destination)


def _with_factor_contact(person: Person) -> Account:
    account = Account.objects.get(pin=person.pin)
    account.phone = PHONE
    account.save(update_fields=["phone"])
    return account


# --- item 1: the second factor cannot be replaced with the password alone ---------------------


def test_attack_password_only_session_cannot_replace_the_second_factor(
    django_capture_on_commit_callbacks: Any,
) -> None:
    victim = make_person(level=2)
    attacker = Client()
    signed_in(attacker, victim)  # the password alone: acr 1
    page = attacker.get("/id/tai-khoan/xac-thuc/")
    assert page.status_code == 302 and page["Location"].startswith("/id/xac-thuc-2-lop/")
    # The attacker starts an enrolment in the service directly and posts its code to the page.
    account = Account.objects.get(pin=victim.pin)
    rogue = services.totp_enroll_begin(account=account)
    rogue_code = pyotp.TOTP(services.totp_secret(rogue)).now()
    refused = attacker.post("/id/tai-khoan/xac-thuc/", {"code": rogue_code})
    assert refused.status_code == 302 and "/id/xac-thuc-2-lop/" in refused["Location"]
    assert TOTPDevice.objects.filter(user=account.user, confirmed=True).count() == 1
    # The victim's own authenticator still works, the attacker's never reaches level 2.
    assert services.login_second_factor(
        account=account, code=victim.totp_now(), client=services.Client(ip=None)
    )
    bad = attacker.post("/id/xac-thuc-2-lop/", {"code": rogue_code})
    assert bad.status_code == 200 and attacker.session["eid"]["acr"] == 1


def test_replacing_the_factor_after_proving_the_old_one_is_announced_with_a_way_to_lock(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person(level=2)
    _with_factor_contact(person)
    client = Client()
    signed_in(client, person)
    client.post("/id/xac-thuc-2-lop/", {"code": person.totp_now()})
    assert client.get("/id/tai-khoan/xac-thuc/").status_code == 200
    secret = client.get("/id/tai-khoan/xac-thuc/").context["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/id/tai-khoan/xac-thuc/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    to, text = OutboxSmsGateway.outbox[-1]
    assert to == PHONE and "thay ung dung xac thuc" in text
    link = re.search(r"http\S+/id/khong-phai-toi/\S+/", text)
    assert link is not None
    path = link.group(0).split("8000", 1)[1]
    # Opening the link (a mail scanner) changes nothing; confirming locks the account.
    assert Client().get(path).status_code == 200
    assert Account.objects.get(pin=person.pin).suspended_at is None
    assert Client().post(path).status_code == 200
    assert Account.objects.get(pin=person.pin).suspended_at is not None
    assert client.get("/id/tai-khoan/").status_code == 302  # every session ended
    with pytest.raises(services.LoginRefused, match="khoá"):
        services.login_check(pin=person.pin, password=PASSWORD, client=services.Client(ip=None))


def test_attack_a_forged_not_me_link_locks_nothing() -> None:
    person = make_person()
    page = Client().post(f"/id/khong-phai-toi/{person.pin}:forged:signature/")
    assert page.status_code == 404
    assert Account.objects.get(pin=person.pin).suspended_at is None


# --- items 2 and 3: registration is no oracle and needs the contact on record ------------------


def test_attack_registration_answers_the_same_for_every_mismatch() -> None:
    known = citizen_with_phone_on_record()
    dead = citizen_with_phone_on_record(full_name="Lê Văn Cường", birth_date=date(1950, 1, 1))
    citizen_record_death(actor=OFFICIAL, pin=dead, death_date=date(2024, 5, 1), reason="test")
    without_contact = citizen_with_phone_on_record(
        phone="", phone_source="", phone_recorded_at=None
    )
    tries = [
        ("087088999999", {}),  # unknown PIN
        (known, {"full_name": "Lê Văn Cương"}),  # wrong name
        (known, {"birth_date": "1988-02-11"}),  # wrong birth date
        (dead, {"birth_date": "1950-01-01"}),  # deceased
        (without_contact, {}),  # nothing on record: activate at the police
    ]
    answers = set()
    for i, (pin, changes) in enumerate(tries):
        page = _register_page(Client(REMOTE_ADDR=f"10.1.0.{i}"), pin, **changes)
        assert page.status_code == 302, page.content.decode()[:300]
        answers.add(page["Location"].split("?")[0])
        answers.add(Client().get(page["Location"]).content.decode().count("công an"))
    assert len(answers) == 2  # one page, worded the same
    assert not Account.objects.exists()
    assert _codes_sent_to(ATTACKER_PHONE) == 0


def test_attack_registering_someone_else_sends_the_code_to_their_phone_not_mine(
    django_capture_on_commit_callbacks: Any,
) -> None:
    victim = citizen_with_phone_on_record()
    with django_capture_on_commit_callbacks(execute=True):
        page = _register_page(Client(), victim)
    assert page.status_code == 302
    assert _codes_sent_to(ATTACKER_PHONE) == 0 and _codes_sent_to(PHONE) == 1
    guesses = [f"{n:06d}" for n in range(5)]
    for guess in guesses:
        Client().post("/id/dang-ky/xac-nhan/", {"pin": victim, "code": guess})
    assert not Account.objects.get(pin=victim).active


def test_attack_registering_an_existing_account_tells_its_owner_and_nobody_else(
    django_capture_on_commit_callbacks: Any,
) -> None:
    victim = citizen_with_phone_on_record()
    services.account_create(actor=POLICE, pin=victim, password=PASSWORD, contact=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        page = _register_page(Client(), victim)
    assert page.status_code == 302 and "xac-nhan" in page["Location"]
    assert "da co tai khoan" in OutboxSmsGateway.outbox[-1][1]
    assert Account.objects.get(pin=victim).user.check_password(PASSWORD)


def test_attack_registration_enumeration_is_throttled_per_claimed_pin(settings: Any) -> None:
    victim = citizen_with_phone_on_record()
    limit = settings.REGISTRATION_LIMITS["pin"]["limit"]
    for day in range(1, limit + 1):  # the birth date tried day by day, from many addresses
        page = _register_page(
            Client(REMOTE_ADDR=f"10.2.0.{day}"), victim, birth_date=f"1988-01-{day:02d}"
        )
        assert page.status_code == 302
    refused = _register_page(Client(REMOTE_ADDR="10.2.1.1"), victim, birth_date="1988-11-02")
    assert refused.status_code == 200 and "Quá nhiều lần đăng ký" in refused.content.decode()
    assert not Account.objects.exists()


def test_attack_registration_attempts_show_in_the_claimed_persons_access_log() -> None:
    victim = citizen_with_phone_on_record()
    _register_page(Client(REMOTE_ADDR="10.3.0.1"), victim, birth_date="1988-01-01")
    rows = AccessLog.objects.filter(subject_pin=victim)
    assert rows.count() == 1
    assert "10.3.0.1" in rows.get().actor and "lần thử" in rows.get().purpose


def test_attack_an_oversized_portrait_is_refused_before_it_is_read() -> None:
    victim = citizen_with_phone_on_record()

    class Huge(SimpleUploadedFile):
        def read(self, *args: Any) -> bytes:
            raise AssertionError("read before the size check")

        def open(self, mode: str | None = None) -> Any:  # type: ignore[override]
            raise AssertionError("opened before the size check")

    huge = Huge("anh.jpg", b"")
    huge.size = 50 * 1024 * 1024
    with pytest.raises(ValidationFailed) as refused:
        services.account_register(
            registration=services.Registration(
                pin=victim,
                full_name="Lê Văn Cường",
                birth_date="1988-11-02",
                password=PASSWORD,
                portrait=huge,
            ),
            client=services.Client(ip=None),
        )
    assert "portrait" in refused.value.errors


# --- items 4 and 5: one throttle for every password check, keyed right -------------------------


def test_attack_failures_from_one_client_behind_the_proxy_do_not_lock_out_the_others(
    settings: Any,
) -> None:
    settings.TRUSTED_PROXIES = "10.0.0.0/8"
    settings.LOGIN_LIMITS = {**settings.LOGIN_LIMITS, "address": {"limit": 3, "window_s": 900}}
    person = make_person()
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for pin in ("087090000001", "087090000002", "087090000003", "087090000004"):
        attacker.post("/id/dang-nhap/", {"pin": pin, "password": "x"})
    blocked = attacker.post("/id/dang-nhap/", {"pin": "087090000005", "password": "x"})
    assert "Quá nhiều lần thử" in blocked.content.decode()
    neighbour = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    page = neighbour.post("/id/dang-nhap/", {"pin": person.pin, "password": PASSWORD})
    assert page.status_code == 302


def test_attack_a_spoofed_forwarding_header_from_an_untrusted_peer_is_ignored(
    settings: Any,
) -> None:
    settings.TRUSTED_PROXIES = "10.0.0.0/8"
    settings.LOGIN_LIMITS = {**settings.LOGIN_LIMITS, "address": {"limit": 2, "window_s": 900}}
    for n in range(3):  # a new forged client address each time, from one real address
        Client(REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            "/id/dang-nhap/", {"pin": f"08709000001{n}", "password": "x"}
        )
    page = Client(REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR="192.0.2.99").post(
        "/id/dang-nhap/", {"pin": "087090000019", "password": "x"}
    )
    assert "Quá nhiều lần thử" in page.content.decode()


def test_attack_refused_attempts_never_extend_the_throttle(settings: Any) -> None:
    settings.LOGIN_LIMITS = {**settings.LOGIN_LIMITS, "pair": {"limit": 2, "window_s": 60}}
    person = make_person()
    client = Client(REMOTE_ADDR="10.4.0.1")
    for _ in range(2):
        client.post("/id/dang-nhap/", {"pin": person.pin, "password": "sai"})
    for _ in range(20):  # hammering while refused adds nothing to the count
        client.post("/id/dang-nhap/", {"pin": person.pin, "password": "sai"})
    counted = sum(
        RateCounter.objects.filter(key__startswith="login:pair:").values_list("count", flat=True)
    )
    assert counted == 2


def test_attack_an_unknown_pin_and_a_wrong_password_get_the_same_answer() -> None:
    person = make_person()
    unknown = Client(REMOTE_ADDR="10.5.0.1").post(
        "/id/dang-nhap/", {"pin": "087090000777", "password": "x"}
    )
    wrong = Client(REMOTE_ADDR="10.5.0.2").post(
        "/id/dang-nhap/", {"pin": person.pin, "password": "x"}
    )
    assert unknown.context["form"].errors == wrong.context["form"].errors


def test_attack_a_citizen_password_at_the_back_office_is_throttled_like_any_other(
    settings: Any,
) -> None:
    settings.LOGIN_LIMITS = {**settings.LOGIN_LIMITS, "pair": {"limit": 2, "window_s": 900}}
    person = make_person()
    client = Client(REMOTE_ADDR="10.6.0.1")
    for _ in range(2):
        client.post("/can-bo/dang-nhap/", {"username": person.pin, "password": "sai"})
    # The e-ID's own sign-in now refuses the right password from that address: one throttle.
    page = client.post("/id/dang-nhap/", {"pin": person.pin, "password": PASSWORD})
    assert "Quá nhiều lần thử" in page.content.decode()


# --- item 7 and the low ones: codes, reset, password change, level 2 --------------------------


def test_attack_one_time_codes_cannot_be_pumped_to_a_phone(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person()
    _with_factor_contact(person)
    Account.objects.filter(pin=person.pin).update(contact_verified_at=timezone.now())
    for _ in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            services.password_reset_begin(
                pin=person.pin, contact=PHONE, client=services.Client(ip="10.7.0.1")
            )
    assert _codes_sent_to(PHONE) == 1  # the next one only after a growing gap
    assert OneTimeCode.objects.filter(account__pin=person.pin).count() == 1


def test_attack_the_reset_page_neither_reveals_the_authenticator_nor_spends_its_throttle(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with_totp, without = make_person(level=2), make_person(full_name="Phạm Văn Dũng", sex="M")
    answers = []
    for person in (with_totp, without):
        with pytest.raises(ValidationFailed) as refused:
            services.password_reset_finish(
                pin=person.pin, code="123456", password="Mat-khau-moi-2027", totp_code="000000"
            )
        answers.append(refused.value.errors)
    assert answers[0] == answers[1] and set(answers[0]) == {"code"}
    device = TOTPDevice.objects.get(user__username=with_totp.pin)
    assert device.throttling_failure_count == 0


def test_attack_a_changed_password_ends_the_tokens_of_the_old_one() -> None:
    person = make_person()
    account = Account.objects.get(pin=person.pin)
    app = Application.objects.create(
        name="bank", client_type="confidential", authorization_grant_type="authorization-code"
    )
    RefreshToken.objects.create(user=account.user, application=app, token="r-1")
    services.password_change(account=account, current=PASSWORD, new="Mat-khau-moi-2027")
    assert RefreshToken.objects.get(token="r-1").revoked is not None


def test_attack_level_2_with_an_expired_card_is_refused() -> None:
    citizen = make_citizen(full_name="Trần Thị Bình", sex="F", birth_date=date(1990, 3, 8))
    idcard_issue(actor=OFFICIAL, pin=citizen.pin, issued_on=date(2001, 1, 1))  # due at 14
    account, _ = services.account_create(actor=POLICE, pin=citizen.pin, password=PASSWORD)
    device = services.totp_enroll_begin(account=account)
    services.totp_enroll_confirm(
        account=account, code=pyotp.TOTP(services.totp_secret(device)).now()
    )
    with pytest.raises(ValidationFailed) as refused:
        services.account_raise_level(
            actor=POLICE,
            check=services.InPersonCheck(
                pin=citizen.pin,
                place="Công an phường",
                card_number=citizen.pin,
                checked_at=timezone.now(),
            ),
        )
    assert "card_number" in refused.value.errors


def test_the_help_desk_recovers_a_suspended_account_in_person() -> None:
    person = make_person(level=2)
    Account.objects.filter(pin=person.pin).update(suspended_at=timezone.now())
    secret = services.totp_reset(actor=POLICE, pin=person.pin)
    assert Account.objects.get(pin=person.pin).suspended_at is None
    account = Account.objects.get(pin=person.pin)
    assert services.login_second_factor(
        account=account, code=pyotp.TOTP(secret).now(), client=services.Client(ip=None)
    )


def test_attack_a_password_only_session_cannot_change_a_level_2_accounts_password() -> None:
    victim = make_person(level=2)
    attacker = Client()
    signed_in(attacker, victim)
    page = attacker.post(
        "/id/tai-khoan/mat-khau/", {"current": PASSWORD, "new": "Mat-khau-ke-gian-2027"}
    )
    assert page.status_code == 302 and page["Location"].startswith("/id/xac-thuc-2-lop/")
    assert Account.objects.get(pin=victim.pin).user.check_password(PASSWORD)


def test_attack_a_passkey_only_account_is_not_reset_by_the_sms_code_alone(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person()
    account = _with_factor_contact(person)
    Account.objects.filter(pk=account.pk).update(contact_verified_at=timezone.now())
    WebAuthnCredential.objects.create(
        user_id=account.user_id,
        name="passkey",
        credential_id=b"x" * 32,
        public_key=b"y" * 77,
        aaguid="00000000-0000-0000-0000-000000000000",
        confirmed=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_begin(
            pin=person.pin, contact=PHONE, client=services.Client(ip=None)
        )
    code = re.findall(r"\d{6}", OutboxSmsGateway.outbox[-1][1])[0]
    with pytest.raises(ValidationFailed):
        services.password_reset_finish(pin=person.pin, code=code, password="Mat-khau-moi-2027")
    assert Account.objects.get(pin=person.pin).user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Mot-Cua-2026-rat-dai", "the platform"),
        ("ĐịnhDanh#2026xx", "the platform, with accents"),
        ("le-van-cuong-2026", "the name"),
        ("bi-mat-02111988", "the birth date"),
    ],
)
def test_attack_a_password_made_of_the_platform_or_the_persons_name_is_refused(
    password: str, why: str
) -> None:
    pin = citizen_with_phone_on_record()
    with pytest.raises(ValidationFailed) as refused:
        services.account_register(
            registration=services.Registration(
                pin=pin,
                full_name="Lê Văn Cường",
                birth_date="1988-11-02",
                password=password,
                portrait=SimpleUploadedFile("anh.jpg", _jpeg()),
            ),
            client=services.Client(ip=None),
        )
    assert "password" in refused.value.errors, why
