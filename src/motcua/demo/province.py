"""The demo province: what `make run` shows. Each feature adds its part here, so the demo always
shows everything Motcua does, with a login for each role."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import SYSTEM, Actor
from motcua.core.apikeys import apikey_create
from motcua.core.errors import Conflict
from motcua.demo.life_events import (
    DemoLifeEvents,
    DemoPortal,
    Desk,
    demo_family_head,
    life_events_prepare,
    portal_prepare,
)
from motcua.demo.public_services import (
    AGENCY_ROLES,
    LABOUR_GROUP,
    LINKAGE_OFFICIAL,
    SOCIAL_INSURANCE_GROUP,
    DemoLinkage,
    DemoServices,
    linkage_demo_prepare,
    officials_place,
    public_services_prepare,
)
from motcua.geo.selectors import units_search
from motcua.identity import selectors as identity_selectors
from motcua.identity import services as identity
from motcua.registry import selectors as registry
from motcua.registry import services as registry_services
from motcua.web.portal import portal_registered

DEMO_PASSWORD = "dongthap-demo-2026"  # noqa: S105 - printed for the demo, never used in production
# The demo officials' authenticator (the back office and the admin ask for its code after the
# password): one secret for all of them, printed with the logins, like the password.
DEMO_TOTP_SECRET = "MOTCUADEMOCANBOXACTHUCHAILOPDEMO"  # noqa: S105 - base32; `oathtool --totp -b` gives the code

VIEW_REGISTRY = [
    "registry.view_citizen",
    "registry.view_lifeevent",
    "registry.view_household",
    "registry.view_householdmember",
    "registry.view_residence",
    "registry.view_idcard",
    "geo.view_administrativeunit",
]
ROLE_GROUPS: dict[str, list[str]] = {
    "Cán bộ đăng ký dân cư": [*VIEW_REGISTRY, "registry.change_citizen"],
    "Cán bộ tra cứu": VIEW_REGISTRY,
    "Lãnh đạo": [*VIEW_REGISTRY, "core.view_auditentry", "core.view_accesslog"],
    "Cán bộ giải quyết thủ tục": VIEW_REGISTRY,
    "Cán bộ công an – định danh": [
        *VIEW_REGISTRY,
        "registry.verify_citizen",
        "identity.raise_level",
    ],
    "Cán bộ làm sạch dữ liệu": [
        *VIEW_REGISTRY,
        "linkage.run_linkage",
        "linkage.review_pair",
    ],
    # The sectors' officials read their sector's records (the admin's read-only lists); a
    # decision's effect carries the permission its service needs (dossiers.effects), so they
    # hold no write permission of their own.
    SOCIAL_INSURANCE_GROUP: [
        *VIEW_REGISTRY,
        "insurance.view_insuredperson",
        "insurance.view_healthcard",
        "insurance.view_benefitdecision",
    ],
    LABOUR_GROUP: [
        *VIEW_REGISTRY,
        "benefits.view_recipient",
        "benefits.view_supportdecision",
    ],
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    title: str
    group: str | None = None
    superuser: bool = False


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("quantri", "Quản trị hệ thống / administrator", superuser=True),
    DemoLogin(
        "canbo.hotich",
        "Cán bộ hộ tịch – cư trú / registry official",
        "Cán bộ đăng ký dân cư",
    ),
    DemoLogin("canbo.tracuu", "Cán bộ tra cứu", "Cán bộ tra cứu"),
    DemoLogin("lanhdao", "Lãnh đạo", "Lãnh đạo"),
    DemoLogin(
        "canbo.congan",
        "Cán bộ công an – nâng mức định danh / police e-ID officer",
        "Cán bộ công an – định danh",
    ),
    DemoLogin(
        LINKAGE_OFFICIAL,
        "Cán bộ làm sạch dữ liệu, Công an tỉnh / data-cleaning official, provincial police",
        "Cán bộ làm sạch dữ liệu",
    ),
)
DOSSIER_GROUP = "Cán bộ giải quyết thủ tục"
# What the header shows for each official; Vietnamese names run family name first, so the
# whole name goes in first_name (Django's get_full_name puts first_name first).
OFFICIAL_NAMES = {
    "quantri": "Lê Minh Quân",
    "canbo.hotich": "Nguyễn Thị Hồng",
    "canbo.tracuu": "Phan Văn Tài",
    "lanhdao": "Võ Thanh Sơn",
    "canbo.congan": "Trần Quốc Bảo",
    LINKAGE_OFFICIAL: "Đặng Thu Trang",
    "motcua.xa": "Huỳnh Ngọc Mai",
    "chutich.xa": "Lâm Văn Phúc",
    "congan.xa": "Nguyễn Hữu Lộc",
    "truong.congan.xa": "Bùi Đức Thắng",
    "bhxh.tinh": "Đoàn Thị Kim Loan",
    "giamdoc.bhxh": "Trương Công Hiếu",
    "laodong.tinh": "Hồ Thị Thu Hà",
    "giamdoc.laodong": "Mai Văn Cường",
}
DEMO_LOGINS += tuple(DemoLogin(a.username, a.title, a.group or DOSSIER_GROUP) for a in AGENCY_ROLES)
DEMO_PARTNER = "Ngân hàng Demo (eKYC)"


@dataclass(frozen=True)
class DemoCitizen:
    pin: str
    name: str
    level: int
    totp_secret: str | None = None


@dataclass(frozen=True)
class DemoRegistrant:
    """A citizen without an e-ID whose phone is on record: registering shows the code going
    to that phone (the demo's SMS gateway writes it to the log)."""

    pin: str
    name: str
    birth_date: str
    phone_masked: str


@dataclass(frozen=True)
class DemoInfo:
    seeded: int
    api_key: str
    citizen_pin: str
    citizen_name: str
    citizens: list[DemoCitizen]
    partner: identity.Credentials
    services: DemoServices
    linkage: DemoLinkage
    registrant: DemoRegistrant | None
    life_events: DemoLifeEvents
    portal: DemoPortal


def demo_prepare(
    *, citizens: int, seed: int, progress: Callable[[int], None] | None = None
) -> DemoInfo:
    """Seed once (a second run reuses the data), then make sure the logins exist."""
    info = _registry_prepared(citizens=citizens, seed=seed, progress=progress)
    portal_registered()
    accounts = _eid_accounts()
    level2 = accounts[1].pin
    services = public_services_prepare(
        group=DOSSIER_GROUP,
        password=DEMO_PASSWORD,
        citizen_pins=[c.pin for c in accounts],
        home_pin=level2,
    )
    life_events = life_events_prepare(
        applicant=level2,
        desk=_desk(),
        staff=lambda wards: officials_place(
            group=DOSSIER_GROUP, password=DEMO_PASSWORD, wards=wards
        ),
        others={c.pin for c in accounts} | {info["citizen_pin"]},
    )
    base = str(settings.PUBLIC_URL).rstrip("/")
    portal = portal_prepare(
        redirect_uri=f"{base}/cong-tinh/oidc/callback", webhook_url=_webhook_url(base)
    )
    linkage = linkage_demo_prepare(citizens=registry.registry_stats().citizens)
    return DemoInfo(
        **info,
        citizens=accounts,
        partner=_ekyc_partner(),
        services=services,
        linkage=linkage,
        registrant=_registrant(skip={c.pin for c in accounts}),
        life_events=life_events,
        portal=portal,
    )


def _desk() -> Desk:
    officials: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for role in AGENCY_ROLES:
        officials.setdefault(str(role.kind), []).append((role.username, role.roles))
    return Desk(officials)


def _webhook_url(base: str) -> str:
    """Where the demo portal receives status changes: the port after the demo's own, on this
    machine (run a receiver there to see them)."""
    host, _, port = base.removeprefix("http://").removeprefix("https://").partition(":")
    return f"http://{host}:{int(port or 80) + 1}/motcua/webhook"


def _registry_prepared(
    *, citizens: int, seed: int, progress: Callable[[int], None] | None
) -> dict[str, Any]:
    seeded = 0
    if not _already_seeded():
        seeded = registry_services.population_load(
            citizens, province_key=registry_services.DEFAULT_PROVINCE, seed=seed, progress=progress
        ).citizens
    _ensure_roles()
    officer = User.objects.get(username="canbo.hotich")
    pin, name = registry.household_heads(limit=1)[0]
    if seeded:
        _demo_life_events(Actor.from_user(officer), pin)
    return {
        "seeded": seeded,
        "api_key": _fresh_api_key(officer),
        "citizen_pin": pin,
        "citizen_name": name,
    }


def _already_seeded() -> bool:
    return registry.registry_stats().citizens > 0


@transaction.atomic
def _ensure_roles() -> None:
    for name, codenames in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([_permission(c) for c in codenames])
    for login in DEMO_LOGINS:
        user, created = User.objects.get_or_create(
            username=login.username, defaults={"is_staff": True, "is_superuser": login.superuser}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.first_name = OFFICIAL_NAMES.get(login.username, "")  # the whole name, family first
        user.save()
        if login.group:
            user.groups.set([Group.objects.get(name=login.group)])
        _demo_authenticator(user)


def _demo_authenticator(user: User) -> None:
    """The official's confirmed authenticator, on the demo's printed secret."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.update_or_create(
        user=user, name="Demo", defaults={"key": key, "confirmed": True}
    )


def _permission(codename: str) -> Permission:
    app_label, code = codename.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=code)


def _fresh_api_key(user: User) -> str:
    """A new key each run: keys are shown once and stored hashed, so the old one cannot be printed."""
    return apikey_create(name=f"demo key for {user.username}", user=user)


def _demo_life_events(actor: Actor, pin: str) -> None:
    """A little history for the demo citizen, made through the services like any other."""
    registry_services.idcard_issue(actor=actor, pin=pin, issued_on=date.today())
    provincial_capital = units_search("Cao Lãnh", level="ward", scheme="2025")[0]
    registry_services.residence_move(
        actor=actor,
        pin=pin,
        move=registry_services.ResidenceMove(
            kind="temporary",
            since=date.today(),
            ward=provincial_capital.key,
            address="Số 5, Đường 30 Tháng 4",
        ),
        reason="Tạm trú để làm việc",
    )


def _eid_accounts() -> list[DemoCitizen]:
    """Two citizens with e-ID accounts (the demo password): one at level 1, one at level 2
    whose authenticator is replaced on each run so that its secret can be printed. The level-2
    citizen heads a family fitting the demo's life events (demo.life_events)."""
    (pin1, name1), fallback = registry.household_heads(limit=2)
    pin2, name2 = demo_family_head(skip={pin1}) or fallback
    for pin, level in ((pin1, 1), (pin2, 2)):
        on_record = registry.citizen_contacts_on_record(pin=pin)
        contact = on_record[0].value if on_record else ""  # where factor changes are announced
        with contextlib.suppress(Conflict):  # made by an earlier run
            identity.account_create(
                actor=SYSTEM, pin=pin, password=DEMO_PASSWORD, level=level, contact=contact
            )
    secret = identity.totp_reset(actor=SYSTEM, pin=pin2)
    return [DemoCitizen(pin1, name1, 1), DemoCitizen(pin2, name2, 2, secret)]


def _registrant(*, skip: set[str]) -> DemoRegistrant | None:
    """The first household head after the demo accounts with a phone on record and no e-ID."""
    for pin, name in registry.household_heads(limit=50):
        phones = [c for c in registry.citizen_contacts_on_record(pin=pin) if c.kind == "phone"]
        if pin in skip or not phones or identity_selectors.account_exists(pin=pin):
            continue
        record = registry.citizen_get(actor=SYSTEM, pin=pin, purpose="demo: người đăng ký mẫu")
        return DemoRegistrant(pin, name, record.birth_date, phones[0].masked)
    return None


def _ekyc_partner() -> identity.Credentials:
    """A bank of the verification API; its secret is new each run (stored hashed)."""
    try:
        _, credentials = identity.partner_add(actor=SYSTEM, name=DEMO_PARTNER, rate_per_second=2000)
    except Conflict:
        credentials = identity.partner_secret_reset(actor=SYSTEM, name=DEMO_PARTNER)
    return credentials
