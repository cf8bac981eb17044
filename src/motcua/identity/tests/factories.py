"""Test data for the e-ID: citizens with accounts, relying parties, PKCE pairs, sign-ins."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
from django.test import Client
from django.utils import timezone

from motcua.core.actors import SYSTEM, Actor
from motcua.identity import services
from motcua.identity.models import Account
from motcua.registry.services import idcard_issue
from motcua.registry.tests.factories import OFFICIAL, make_citizen

PASSWORD = "Mat-khau-rat-dai-2026"
BANK_REDIRECT = "https://nganhang.example/dang-nhap/callback"


@dataclass
class Person:
    pin: str
    full_name: str
    birth_date: date
    totp_secret: str | None = None

    def totp_now(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


def make_person(
    *,
    level: int = 1,
    full_name: str = "Trần Thị Bình",
    sex: str = "F",
    birth_date: date = date(1990, 3, 8),
    with_account: bool = True,
) -> Person:
    citizen = make_citizen(full_name=full_name, sex=sex, birth_date=birth_date)
    idcard_issue(actor=OFFICIAL, pin=citizen.pin, issued_on=timezone.localdate())
    person = Person(citizen.pin, full_name, birth_date)
    if with_account:
        _, person.totp_secret = services.account_create(
            actor=SYSTEM, pin=citizen.pin, password=PASSWORD, level=level
        )
    return person


POLICE = Actor(
    kind="official", ref="cong.an.phuong", permissions=frozenset({services.RAISE_PERMISSION})
)


def raise_in_person(person: Person, *, place: str = "Công an phường Cao Lãnh") -> None:
    """The person adds an authenticator app if they have no second factor, then the police
    check them in person and raise their account to level 2 (again, if it already is)."""
    account = Account.objects.get(pin=person.pin)
    if not services.account_has_factor(account):
        device = services.totp_enroll_begin(account=account)
        person.totp_secret = services.totp_secret(device)
        services.totp_enroll_confirm(account=account, code=person.totp_now())
    services.account_raise_level(
        actor=POLICE,
        check=services.InPersonCheck(
            pin=person.pin, place=place, card_number=person.pin, checked_at=timezone.now()
        ),
    )


PHONE_ON_RECORD = "0912345678"


def citizen_with_phone_on_record(**fields: object) -> str:
    """A citizen without an e-ID whose phone was recorded when their ID card was made; their
    PIN."""
    defaults: dict[str, object] = dict(
        full_name="Lê Văn Cường",
        birth_date=date(1988, 11, 2),
        phone=PHONE_ON_RECORD,
        phone_source="card_issuance",
        phone_recorded_at=timezone.now(),
    )
    return make_citizen(**{**defaults, **fields}).pin  # type: ignore[arg-type]


def make_party(
    *,
    scopes: tuple[str, ...] = ("openid", "profile"),
    pin_claim: bool = False,
    min_level: int = 1,
    name: str = "Ngân hàng Thử nghiệm",
) -> services.Credentials:
    _, credentials = services.rp_add(
        actor=SYSTEM,
        party=services.NewParty(
            name=name,
            redirect_uris=[BANK_REDIRECT],
            scopes=list(scopes),
            pin_claim=pin_claim,
            min_level=min_level,
        ),
    )
    return credentials


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def signed_in(client: Client, person: Person) -> None:
    response = client.post("/id/dang-nhap/", {"pin": person.pin, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def authorize_url(client_id: str, challenge: str | None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": BANK_REDIRECT,
        "scope": "openid profile",
        "state": "trang-thai-1",
        "nonce": "so-dung-mot-lan",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/o/authorize/?" + urlencode({**params, **extra})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent_and_code(client: Client, url: str) -> dict[str, str]:
    """Open the authorization URL, allow on the consent screen, return the redirect's query."""
    page = client.get(url)
    if page.status_code == 200:  # the consent screen
        form = page.context["form"]
        data = {name: form[name].value() or "" for name in form.fields}
        data["allow"] = "Authorize"
        page = client.post("/o/authorize/", data)
    assert page.status_code == 302, page.content.decode()[:800]
    return query_of(page["Location"])


def token_request(
    client: Client, credentials: services.Credentials, **fields: str
) -> dict[str, object]:
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    response = client.post(
        "/o/token/",
        {"grant_type": "authorization_code", "redirect_uri": BANK_REDIRECT, **fields},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    body: dict[str, object] = response.json()
    body["_status"] = response.status_code
    return body
