"""Accounts: registration against the registry, contact codes, lockout, deceased persons,
password reset behind the second factor, level 2 by an in-person check, children's accounts,
sessions and their limits, and the person's own pages."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from typing import Any

import pyotp
import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from motcua.core.actors import Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.messaging import OutboxSmsGateway
from motcua.core.models import AuditEntry
from motcua.core.uploads import private_storage
from motcua.identity import services
from motcua.identity.models import Account, AccountSession
from motcua.identity.tests.factories import (
    PASSWORD,
    PHONE_ON_RECORD,
    citizen_with_phone_on_record,
    make_person,
    signed_in,
)
from motcua.registry.services import citizen_record_death
from motcua.registry.tests.factories import OFFICIAL, make_citizen

pytestmark = pytest.mark.django_db
POLICE = Actor(
    kind="official", ref="cong.an.phuong", permissions=frozenset({services.RAISE_PERMISSION})
)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def _registration(pin_on_record: str, **changes: object) -> services.Registration:
    fields: dict[str, object] = dict(
        pin=pin_on_record,
        full_name="Lê Văn Cường",
        birth_date="1988-11-02",
        password=PASSWORD,
        portrait=SimpleUploadedFile("anh.jpg", _jpeg()),
    )
    return services.Registration(**{**fields, **changes})  # type: ignore[arg-type]


HOME = services.Client(ip="10.0.0.1")


def _last_sms_code() -> str:
    return re.findall(r"\d{6}", OutboxSmsGateway.outbox[-1][1])[0]


def test_registration_sends_a_code_to_the_phone_on_record_which_activates_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    pin = citizen_with_phone_on_record()
    with django_capture_on_commit_callbacks(execute=True):  # the code goes out after commit
        services.account_register(
            registration=_registration(pin, full_name="  lê văn  CƯỜNG "), client=HOME
        )
    account = Account.objects.get(pin=pin)
    assert not account.active and account.portrait.startswith("portraits/")
    assert private_storage().exists(account.portrait)
    assert OutboxSmsGateway.outbox[-1][0] == PHONE_ON_RECORD
    with pytest.raises(ValidationFailed):
        services.account_confirm_contact(
            pin=pin, code="000000" if _last_sms_code() != "000000" else "111111"
        )
    services.account_confirm_contact(pin=pin, code=_last_sms_code())
    assert Account.objects.get(pin=pin).active and account.phone == PHONE_ON_RECORD


def test_a_code_is_good_for_five_tries_only(django_capture_on_commit_callbacks: Any) -> None:
    pin = citizen_with_phone_on_record(
        phone="",
        email="cuong@example.vn",
        email_source="residence_registration",
        email_recorded_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.account_register(registration=_registration(pin), client=HOME)
    code = re.findall(r"\d{6}", str(mail.outbox[-1].body))[0]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            services.account_confirm_contact(pin=pin, code=wrong)
    with pytest.raises(ValidationFailed) as refused:
        services.account_confirm_contact(pin=pin, code=code)
    assert "hết hạn" in refused.value.errors["code"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "123"}, "password"),
        ({"pin": "12345"}, "pin"),
        ({"birth_date": "1988-13-40"}, "birth_date"),
        ({"portrait": SimpleUploadedFile("a.jpg", b"%PDF-1.4 not a photo")}, "portrait"),
        ({"portrait": SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)}, "portrait"),
    ],
)
def test_bad_registration_fields_are_named_and_nothing_is_written(
    changes: dict[str, object], field: str
) -> None:
    pin = citizen_with_phone_on_record()
    with pytest.raises(ValidationFailed) as refused:
        services.account_register(registration=_registration(pin, **changes), client=HOME)
    assert field in refused.value.errors
    assert not User.objects.filter(username=pin).exists()


def test_young_children_are_told_a_parent_adds_them() -> None:
    child = citizen_with_phone_on_record(
        birth_date=timezone.localdate().replace(year=timezone.localdate().year - 3)
    )
    with pytest.raises(ValidationFailed) as refused:
        services.account_register(
            registration=_registration(
                child,
                birth_date=str(timezone.localdate().replace(year=timezone.localdate().year - 3)),
            ),
            client=HOME,
        )
    assert "dưới 6" in refused.value.errors["birth_date"]


def test_the_pair_of_address_and_account_is_throttled_after_five_wrong_passwords() -> None:
    person = make_person()
    client = Client()
    for _ in range(5):
        page = client.post("/id/dang-nhap/", {"pin": person.pin, "password": "sai-mat-khau"})
        assert page.status_code == 200
    refused = client.post("/id/dang-nhap/", {"pin": person.pin, "password": PASSWORD})
    assert refused.status_code == 200 and "Quá nhiều lần thử" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    actions = list(AuditEntry.objects.filter(object_id=person.pin).values_list("action", flat=True))
    assert actions.count("login.failure") == 6


def test_a_deceased_persons_account_no_longer_signs_in() -> None:
    person = make_person()
    citizen_record_death(
        actor=OFFICIAL, pin=person.pin, death_date=timezone.localdate(), reason="test"
    )
    with pytest.raises(services.LoginRefused, match="đã mất"):
        services.login_check(pin=person.pin, password=PASSWORD, client=services.Client(ip=None))


def test_password_reset_needs_the_second_factor_when_there_is_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person(level=2)
    Account.objects.filter(pin=person.pin).update(phone="0987654321")
    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_begin(pin=person.pin, contact="0987654321", client=HOME)
    code = _last_sms_code()
    with pytest.raises(ValidationFailed) as refused:
        services.password_reset_finish(pin=person.pin, code=code, password="Mat-khau-moi-2027")
    assert "totp_code" in refused.value.errors
    time.sleep(1.1)  # django-otp holds off the next try for a second after a failure
    services.password_reset_finish(
        pin=person.pin, code=code, password="Mat-khau-moi-2027", totp_code=person.totp_now()
    )
    assert services.login_check(
        pin=person.pin, password="Mat-khau-moi-2027", client=services.Client(ip=None)
    )


def test_reset_for_a_wrong_contact_sends_nothing_and_says_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person()
    before = len(OutboxSmsGateway.outbox)
    with django_capture_on_commit_callbacks(execute=True) as scheduled:
        services.password_reset_begin(pin=person.pin, contact="0900000000", client=HOME)
    assert scheduled == []
    assert len(OutboxSmsGateway.outbox) == before


def test_level_2_needs_the_permission_a_second_factor_and_the_card() -> None:
    person = make_person(level=1)
    check = services.InPersonCheck(
        pin=person.pin,
        place="Công an phường Cao Lãnh",
        card_number=person.pin,
        checked_at=timezone.now(),
    )
    with pytest.raises(PermissionDenied):
        services.account_raise_level(actor=OFFICIAL, check=check)
    with pytest.raises(ValidationFailed) as refused:
        services.account_raise_level(actor=POLICE, check=check)
    assert "yếu tố xác thực" in refused.value.errors["pin"]
    account = Account.objects.get(pin=person.pin)
    device = services.totp_enroll_begin(account=account)
    services.totp_enroll_confirm(
        account=account, code=pyotp.TOTP(services.totp_secret(device)).now()
    )
    with pytest.raises(ValidationFailed) as refused:
        services.account_raise_level(
            actor=POLICE,
            check=services.InPersonCheck(**{**check.__dict__, "card_number": "000000000000"}),
        )
    assert "card_number" in refused.value.errors
    assert services.account_raise_level(actor=POLICE, check=check).level == 2
    assert account.level_checks.get().place == "Công an phường Cao Lãnh"


def test_a_parent_adds_a_young_child_and_a_stranger_cannot() -> None:
    parent = make_person(full_name="Trần Thị Bình", sex="F", birth_date=date(1990, 3, 8))
    born = timezone.localdate().replace(year=timezone.localdate().year - 2, day=1)
    child = make_citizen(full_name="Nguyễn Minh Khôi", birth_date=born, mother_pin=parent.pin)
    stranger = make_person(full_name="Phạm Văn Dũng", sex="M", birth_date=date(1985, 1, 1))
    with pytest.raises(ValidationFailed) as refused:
        services.child_account_add(
            parent=Account.objects.get(pin=stranger.pin),
            child_pin=child.pin,
            full_name="Nguyễn Minh Khôi",
            birth_date=str(born),
        )
    assert "không phải cha/mẹ" in refused.value.errors["child_pin"]
    account = services.child_account_add(
        parent=Account.objects.get(pin=parent.pin),
        child_pin=child.pin,
        full_name="Nguyễn Minh Khôi",
        birth_date=str(born),
    )
    assert account.managed_by is not None and not account.active


def test_each_sign_in_gets_a_new_session_id_and_idle_sessions_end(settings: object) -> None:
    person = make_person()
    client = Client()
    client.get("/id/dang-nhap/")
    before = client.session.session_key
    signed_in(client, person)
    first = client.session.session_key
    signed_in(client, person)
    assert len({before, first, client.session.session_key}) == 3
    assert (
        AccountSession.objects.filter(account__pin=person.pin, ended_at__isnull=True).count() == 1
    )

    session = client.session
    session["eid"] = {**session["eid"], "last_seen": time.time() - 61 * 60}  # level 1: 60 min idle
    session.save()
    assert client.get("/id/tai-khoan/").status_code == 302
    assert "eid" not in client.session


def test_sign_out_everywhere_ends_other_browsers() -> None:
    person = make_person()
    phone, laptop = Client(HTTP_USER_AGENT="Dien thoai"), Client(HTTP_USER_AGENT="May tinh")
    signed_in(phone, person)
    signed_in(laptop, person)
    page = laptop.get("/id/tai-khoan/")
    assert len(page.context["o"].sessions) == 2
    laptop.post("/id/tai-khoan/phien/ket-thuc-tat-ca/")
    assert phone.get("/id/tai-khoan/").status_code == 302
    assert laptop.get("/id/tai-khoan/").status_code == 302


def test_a_death_on_record_ends_every_session_of_the_persons_e_id() -> None:
    person = make_person()
    phone = Client(HTTP_USER_AGENT="Dien thoai")
    signed_in(phone, person)
    assert services.sessions_end_for_pin(pin=person.pin) == 1
    assert phone.get("/id/tai-khoan/").status_code == 302
    assert services.sessions_end_for_pin(pin="087184999999") == 0  # nobody's account


def test_changing_factors_needs_a_recent_sign_in() -> None:
    person = make_person()
    client = Client()
    signed_in(client, person)
    assert client.get("/id/tai-khoan/xac-thuc/").status_code == 200
    session = client.session
    session["eid"] = {**session["eid"], "auth_time": time.time() - 600}
    session.save()
    response = client.get("/id/tai-khoan/xac-thuc/")
    assert response.status_code == 302 and "reauth=1" in response["Location"]
    assert response["Location"].startswith("/id/dang-nhap/")  # no factor yet: the password


def test_account_page_shows_documents_and_who_read_my_data() -> None:
    person = make_person()
    from motcua.registry.selectors import citizen_get

    citizen_get(actor=OFFICIAL, pin=person.pin, purpose="Giải quyết hồ sơ khai sinh")
    client = Client()
    signed_in(client, person)
    page = client.get("/id/tai-khoan/").content.decode()
    assert "Thẻ căn cước" in page and person.pin in page
    access = client.get("/id/tai-khoan/ai-da-xem/")
    rows = access.context["rows"]
    assert [r.reader for r in rows] == ["Một cán bộ"]  # an official of no agency, no name
    assert rows[0].purpose == "Giải quyết hồ sơ khai sinh"
    assert rows[0].sentence == (
        "Một cán bộ đã xem thông tin nhân thân, cư trú của bạn, với mục đích: "
        "Giải quyết hồ sơ khai sinh"
    )
    assert client.get("/id/tai-khoan/ai-da-xem/", {"reader": "ngan hang"}).context["rows"] == []
