"""`motcua demo` prepares what `make run` shows: a seeded province, a login per role, a key."""

from __future__ import annotations

import base64
import re
from io import BytesIO, StringIO

import pyotp
import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from motcua.core.models import AccessLog
from motcua.demo.life_events import LABOUR_REFUSAL
from motcua.demo.province import DEMO_LOGINS, DEMO_PASSWORD
from motcua.identity.selectors import account_exists


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_demo_seeds_once_and_prints_working_logins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "http://localhost:8000")  # as the test settings
    out = StringIO()
    call_command("demo", "--citizens", "400", "--no-serve", stdout=out)
    printed = out.getvalue()
    assert "400 citizens seeded" in printed
    for login in DEMO_LOGINS:
        assert login.username in printed
        assert authenticate(username=login.username, password=DEMO_PASSWORD) is not None

    key = re.search(r"mck_[\w-]+", printed)
    pin = re.search(r"with history: .*, PIN (\d{12})", printed)
    assert key and pin
    response = Client().get(
        f"/api/registry/citizens/{pin[1]}",
        {"purpose": "demo"},
        headers={"Authorization": f"Bearer {key[0]}"},
    )
    assert response.status_code == 200
    assert [
        e["kind"]
        for e in Client()
        .get(
            f"/api/registry/citizens/{pin[1]}/history",
            {"purpose": "demo"},
            headers={"Authorization": f"Bearer {key[0]}"},
        )
        .json()
    ] == ["registered", "card", "residence"]
    assert AccessLog.objects.filter(subject_pin=pin[1]).count() >= 2

    _citizens_and_partner_work(printed)
    _back_office_works(printed)
    _life_events_shown(printed)

    again = StringIO()
    call_command("demo", "--citizens", "400", "--no-serve", stdout=again)
    assert "existing data reused" in again.getvalue()


def _citizens_and_partner_work(printed: str) -> None:
    registrant = re.search(r"register: \S+ as (.+), PIN (\d{12}), born (\S+):", printed)
    assert registrant, printed
    name, pin, born = registrant.groups()
    photo = BytesIO()
    Image.new("RGB", (60, 80), "white").save(photo, "JPEG")
    page = Client().post(
        "/id/dang-ky/",
        {
            "pin": pin,
            "full_name": name,
            **dict(
                zip(("birth_date_0", "birth_date_1", "birth_date_2"), born.split("/"), strict=True)
            ),
            "password": "Mat-khau-dang-ky-2026",
            "portrait": SimpleUploadedFile("anh.jpg", photo.getvalue()),
        },
    )
    summary = re.findall(r'<li><a href="#[^"]+">([^<]+)</a>', page.content.decode())
    assert page.status_code == 302, summary
    assert account_exists(pin=pin)  # a code went to their phone
    level1, level2 = re.findall(r"^  (\d{12})  .* — mức (\d)", printed, re.MULTILINE)
    assert (level1[1], level2[1]) == ("1", "2")
    secret = re.search(r"mức 2, TOTP secret ([A-Z2-7]+)", printed)  # the citizen's own
    assert secret
    browser = Client()
    assert (
        browser.post("/id/dang-nhap/", {"pin": level2[0], "password": DEMO_PASSWORD}).status_code
        == 302
    )
    second = browser.post("/id/xac-thuc-2-lop/", {"code": pyotp.TOTP(secret[1]).now()})
    assert second.status_code == 302 and browser.session["eid"]["acr"] == 2

    partner = re.search(r"curl -u '([^:]+):([^']+)'", printed)
    assert partner
    token = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "ekyc"},
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"{partner[1]}:{partner[2]}".encode()).decode()
        },
    )
    assert token.status_code == 200


def _back_office_works(printed: str) -> None:
    """The one-stop officer sees the demo's dossiers in the queue of their commune."""
    assert "19 thủ tục" in printed
    # The printed secret is the officials' authenticator: password, then its code.
    secret = re.search(r"authenticator's code, secret ([A-Z2-7]+)", printed)
    assert secret and re.search(r"^  motcua\.xa ", printed, re.MULTILINE)
    officer = Client()
    password_only = officer.post(
        "/can-bo/dang-nhap/", {"username": "motcua.xa", "password": DEMO_PASSWORD}
    )
    assert password_only["Location"] == "/can-bo/dang-nhap/ma-xac-thuc/"
    assert officer.get("/can-bo/").status_code == 302  # not in yet
    signed = officer.post("/can-bo/dang-nhap/ma-xac-thuc/", {"code": pyotp.TOTP(secret[1]).now()})
    assert signed.status_code == 302
    queue = officer.get("/can-bo/", follow=True)
    assert queue.status_code == 200
    codes = re.findall(r"\d{5}\.01\.P\d+-\d{6}-\d{4}", queue.content.decode())
    # At least the received and the new birth registration (one is returned; the packages'
    # steps of the commune are decided).
    assert len(set(codes)) >= 2

    # The data-cleaning official (same secret) sees the demo's linkage job of their agency.
    cleaner = Client()
    cleaner.post("/can-bo/dang-nhap/", {"username": "lamsach.congan", "password": DEMO_PASSWORD})
    cleaner.post("/can-bo/dang-nhap/ma-xac-thuc/", {"code": pyotp.TOTP(secret[1]).now()})
    jobs = cleaner.get("/can-bo/lien-ket/")
    assert jobs.status_code == 200 and re.search(
        r'href="/can-bo/lien-ket/\d+/"', jobs.content.decode()
    )


def _signed_in(username: str, secret: str) -> Client:
    official = Client()
    official.post("/can-bo/dang-nhap/", {"username": username, "password": DEMO_PASSWORD})
    official.post("/can-bo/dang-nhap/ma-xac-thuc/", {"code": pyotp.TOTP(secret).now()})
    return official


def _life_events_shown(printed: str) -> None:
    """The linked packages at their stages, the offer waiting, the sectors' officials' queues."""
    packages = re.findall(r"^  (LT-\d{6}-\d{5}) (.+?): (.+)$", printed, re.MULTILINE)
    statuses = [status for _code, _name, status in packages]
    assert len(packages) == 5, printed
    assert sum("Bảo hiểm xã hội" in s for s in statuses) == 1  # waiting at social insurance
    assert sum("Công an" in s for s in statuses) == 1  # waiting at the commune police
    assert sum(LABOUR_REFUSAL in s for s in statuses) == 1  # refused, with the reason
    assert sum("Cơ quan lao động" in s for s in statuses) == 1  # one waiting at labour
    waiting = re.search(r"offers: .* \((\d+) đang chờ", printed)
    assert waiting and int(waiting[1]) >= 1
    secret = re.search(r"authenticator's code, secret ([A-Z2-7]+)", printed)
    assert secret
    for username in ("congan.xa", "bhxh.tinh", "laodong.tinh"):
        queue = _signed_in(username, secret[1]).get("/can-bo/", follow=True)
        assert queue.status_code == 200
        assert re.search(
            r"\d{5}\.01\.P\d+-\d{6}-\d{4}|[A-Z0-9.]+-\d{6}-\d{4}", queue.content.decode()
        ), username
    assert re.search(r"client \S+, secret \S+ \(shown once\)", printed), printed
