"""Reads for the person's own pages and for the provider: plain data, never querysets."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from oauth2_provider.models import get_access_token_model, get_id_token_model

from motcua.catalog.selectors import agency_get, official_roles
from motcua.core.access import access_log_of
from motcua.core.actors import Actor
from motcua.core.text import fold
from motcua.identity.models import (
    Account,
    AccountSession,
    Consent,
    LevelCheck,
    LoginAttempt,
    RelyingParty,
)
from motcua.identity.oidc import acr_level, checksum
from motcua.identity.services.accounts import REGISTRATION_ATTEMPT
from motcua.registry.selectors import ChildView, CitizenRecord, children_of, citizen_get


@dataclass(frozen=True)
class ConsentView:
    id: int
    party: str
    claims: list[str]
    granted_at: datetime


@dataclass(frozen=True)
class SessionView:
    id: int
    started_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str
    device: str  # the browser and system in words: "Chrome trên Android"
    level: int
    current: bool


@dataclass(frozen=True)
class LoginView:
    at: datetime
    ip: str | None
    user_agent: str
    success: bool
    outcome: str  # in words


@dataclass(frozen=True)
class Factor:
    kind: str  # "password", "totp", "passkey"
    label: str
    added_at: datetime | None = None


@dataclass(frozen=True)
class AccountOverview:
    pin: str
    level: int
    level_words: str
    contact: str
    has_totp: bool
    passkeys: int
    factors: list[Factor]
    record: CitizenRecord
    birth_date: date | str  # a date, or the part of it the registry knows ("05/1956")
    sex: str
    consents: list[ConsentView]
    sessions: list[SessionView]
    logins: list[LoginView]
    children: list[str]  # PINs of the children's e-ID accounts this account manages
    children_on_record: list[ChildView]  # the living children the registry links to the person


LEVEL_WORDS = {
    1: gettext_lazy("Mức 1 — đã đối chiếu với Cơ sở dữ liệu quốc gia về dân cư"),
    2: gettext_lazy("Mức 2 — đã xác thực tại cơ quan công an"),
}
SESSION_LEVEL_WORDS = {
    1: gettext_lazy("Mức 1 — đăng nhập bằng mật khẩu"),
    2: gettext_lazy("Mức 2 — mật khẩu và yếu tố xác thực thứ hai"),
}
SEX_WORDS = {"M": gettext_lazy("Nam"), "F": gettext_lazy("Nữ")}
RELATION_WORDS = {
    "head": gettext_lazy("chủ hộ"),
    "spouse": gettext_lazy("vợ/chồng"),
    "child": gettext_lazy("con"),
    "parent": gettext_lazy("cha/mẹ"),
    "grandchild": gettext_lazy("cháu"),
    "grandparent": gettext_lazy("ông/bà"),
    "sibling": gettext_lazy("anh/chị/em"),
    "other": gettext_lazy("khác"),
}
OUTCOME_WORDS = {
    "password": gettext_lazy("Đăng nhập bằng mật khẩu"),
    "totp": gettext_lazy("Xác thực bằng ứng dụng xác thực"),
    "passkey": gettext_lazy("Xác thực bằng khoá truy cập"),
    "wrong_password": gettext_lazy("Sai mật khẩu"),
    "unknown_account": gettext_lazy("Sai số định danh"),
    "wrong_totp": gettext_lazy("Sai mã xác thực"),
    "throttled": gettext_lazy("Bị chặn tạm thời vì thử sai nhiều lần"),
    "suspended": gettext_lazy("Tài khoản đang bị khoá"),
    "deceased": gettext_lazy("Tài khoản đã đóng"),
}


def level_words(level: int) -> str:
    return str(LEVEL_WORDS.get(level, level))


def session_level_words(acr: int) -> str:
    return str(SESSION_LEVEL_WORDS.get(acr, acr))


def account_overview(*, account: Account, session_key: str | None) -> AccountOverview:
    """Everything the person's account page shows; their own record is read as themselves."""
    self_actor = Actor(kind="citizen", ref=account.pin, pin=account.pin)
    record = citizen_get(actor=self_actor, pin=account.pin, purpose="e-ID")
    factors = factors_of(account)
    return AccountOverview(
        pin=account.pin,
        level=account.level,
        level_words=level_words(account.level),
        contact=account.phone or account.email,
        has_totp=any(f.kind == "totp" for f in factors),
        passkeys=sum(f.kind == "passkey" for f in factors),
        factors=factors,
        record=record,
        birth_date=partial_date(record.birth_date),
        sex=str(SEX_WORDS.get(record.sex, record.sex)),
        consents=consents_of(account),
        sessions=sessions_of(account, session_key),
        logins=logins_of(account),
        children=list(account.children.values_list("pin", flat=True)),
        # The integrated documents: a child appears once their birth is registered.
        children_on_record=children_of(actor=self_actor, pin=account.pin, purpose="e-ID"),
    )


def own_name(account: Account) -> str:
    """The person's name as the registry has it (their own read: not in any access log)."""
    return citizen_get(
        actor=Actor(kind="citizen", ref=account.pin, pin=account.pin),
        pin=account.pin,
        purpose="e-ID",
    ).full_name


def partial_date(text: str) -> date | str:
    """The registry's "1956-05-17" as a date; a month or a year alone as people write it."""
    parts = text.split("-")
    try:
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts) == 2:
            return f"{int(parts[1]):02d}/{parts[0]}"
    except ValueError:
        return text
    return text


def factors_of(account: Account) -> list[Factor]:
    """How the person proves who they are: the password, then the second factors."""
    factors = [Factor("password", _("Mật khẩu"))]
    factors += [
        Factor("totp", _("Ứng dụng xác thực (mã 6 số)"))
        for _device in TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True)
    ]
    factors += [
        Factor("passkey", _("Khoá truy cập: %(name)s") % {"name": name}, created)
        for name, created in WebAuthnCredential.objects.filter(
            user_id=account.user_id, confirmed=True
        ).values_list("name", "created_at")
    ]
    return factors


def consents_of(account: Account) -> list[ConsentView]:
    scopes = settings.OIDC_SCOPES
    return [
        ConsentView(
            c.pk,
            _(c.party.name) if c.party.name else c.party.name,
            [str(scopes.get(s, s)) for s in c.scopes.split()],
            c.granted_at,
        )
        for c in Consent.objects.filter(account=account, withdrawn_at__isnull=True)
        .select_related("party")
        .order_by("-granted_at")
    ]


def sessions_of(account: Account, session_key: str | None) -> list[SessionView]:
    """The browsers signed in to the account now, this one first."""
    sessions = [
        SessionView(
            s.pk,
            s.started_at,
            s.last_seen_at,
            s.ip,
            s.user_agent,
            device_words(s.user_agent),
            s.acr,
            s.session_key == session_key,
        )
        for s in AccountSession.objects.filter(
            account=account,
            ended_at__isnull=True,
            # a session that expired or was ended elsewhere (RP-initiated logout) is gone
            session_key__in=Session.objects.filter(expire_date__gt=timezone.now()).values(
                "session_key"
            ),
        ).order_by("-last_seen_at")
    ]
    return sorted(sessions, key=lambda s: not s.current)


_BROWSERS = (  # the first that matches names the browser (Edge and Opera also say Chrome)
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("CocCoc", gettext_lazy("Cốc Cốc")),
    ("Zalo", "Zalo"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_words(user_agent: str) -> str:
    """ "Chrome trên Android" from a User-Agent header; "Trình duyệt không rõ" when it says
    nothing we know."""
    browser = next((str(name) for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    if browser and system:
        return _("%(browser)s trên %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Trình duyệt không rõ")


def logins_of(account: Account, limit: int = 20) -> list[LoginView]:
    return [
        LoginView(a.at, a.ip, a.user_agent, a.success, str(OUTCOME_WORDS.get(a.outcome, "")))
        for a in LoginAttempt.objects.filter(account=account).order_by("-at")[:limit]
    ]


# --- who read my data ------------------------------------------------------------------------

# Reads by one reader for one purpose this close together are one look (one page opened reads
# the record, the dossier and its files): one line for the person.
LOOK_WINDOW = timedelta(minutes=10)
HISTORY_ROWS = 5000  # the rows one page of history is built from, newest first

DATA_WORDS: dict[str, str | Promise] = {
    "registry.citizen": gettext_lazy("thông tin nhân thân, cư trú"),
    "registry.citizen_list": gettext_lazy("thông tin cá nhân (trong một danh sách)"),
    "registry.search": gettext_lazy("thông tin cá nhân (trong kết quả tìm kiếm)"),
    "registry.history": gettext_lazy("lịch sử thay đổi thông tin"),
    "registry.household": gettext_lazy("thông tin hộ gia đình"),
    "registry.household_list": gettext_lazy("thông tin hộ gia đình (trong một danh sách)"),
    "registry.card_due": gettext_lazy("hạn đổi thẻ căn cước"),
    "registry.verification": gettext_lazy("thông tin xác thực danh tính"),
    "registry.linkage_candidate": gettext_lazy("dữ liệu chuyên ngành được đối chiếu với bạn"),
    "registry.reference": gettext_lazy("số định danh và họ tên bạn được khai trong tờ khai"),
    "registry.relation": gettext_lazy("quan hệ gia đình"),
    "registry.children": gettext_lazy("thông tin của con (với cha, mẹ)"),
    "dossiers.dossier": gettext_lazy("hồ sơ thủ tục"),
    "dossiers.file": gettext_lazy("giấy tờ trong hồ sơ"),
    "dossiers.queue_search": gettext_lazy("hồ sơ (trong kết quả tìm kiếm)"),
}
# The purpose the dossiers app gives an official's reads for a dossier ("... hồ sơ <code>").
DOSSIER_PURPOSE = gettext_noop("Giải quyết hồ sơ %(code)s")
_DOSSIER = re.compile(
    "^" + re.escape(DOSSIER_PURPOSE).replace(re.escape("%(code)s"), r"(?P<code>\d[\w.\-]*\w)") + "$"
)


@dataclass
class AccessLine:
    """One look at the person's data: one reader, one purpose, within a few minutes."""

    at: datetime  # the latest read of the look
    first_at: datetime
    actor: str
    actor_kind: str
    purpose: str
    reader: str = ""  # the agency, party or system in words
    official: str = ""  # the official's name, when an official looked
    data: list[str] = field(default_factory=list)  # the kinds of data, in words
    dossier: str = ""  # the dossier's code, when the look was for one
    reads: int = 0

    @property
    def sentence(self) -> str:
        what = get_text_list(self.data, _("và"))
        if self.dossier:
            return _("%(reader)s đã xem %(data)s của bạn để giải quyết hồ sơ %(dossier)s") % {
                "reader": self.reader,
                "data": what,
                "dossier": self.dossier,
            }
        return _("%(reader)s đã xem %(data)s của bạn, với mục đích: %(purpose)s") % {
            "reader": self.reader,
            "data": what,
            "purpose": _(self.purpose) if self.purpose else _("không ghi"),
        }


def access_history(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    reader: str = "",
) -> list[AccessLine]:
    """ "Who read my data": every read of the person's data by someone else, newest first, one
    line per look (reads by one reader for one purpose within LOOK_WINDOW), in words: the
    agency or party by name, the kind of data, the purpose and the dossier. `reader` keeps the
    lines whose reader's name holds it (without diacritics or case)."""
    rows = access_log_of(pin=account.pin, since=since, until=until, limit=HISTORY_ROWS)
    lines: list[AccessLine] = []
    open_looks: dict[tuple[str, str], AccessLine] = {}
    for row in rows:  # newest first
        key = (row.actor, row.purpose)
        look = open_looks.get(key)
        if look is None or look.first_at - row.at > LOOK_WINDOW:
            look = AccessLine(row.at, row.at, row.actor, row.actor_kind, row.purpose)
            open_looks[key] = look
            lines.append(look)
        look.first_at = row.at
        look.reads += 1
        words = str(DATA_WORDS.get(row.data) or _(row.data))
        if words not in look.data:
            look.data.insert(0, words)  # oldest first, as they were read
    _name_readers(lines)
    if reader:
        wanted = fold(reader)
        lines = [line for line in lines if wanted in fold(f"{line.reader} {line.official}")]
    return lines


def _name_readers(lines: Sequence[AccessLine]) -> None:
    officials: dict[str, tuple[str, str]] = {}
    for line in lines:
        kind, _sep, ref = line.actor.partition(":")
        match = _DOSSIER.match(line.purpose)
        line.dossier = match.group("code") if match else ""
        if kind == "official":
            if ref not in officials:
                officials[ref] = _official(ref)
            line.reader, line.official = officials[ref]
        elif kind == "partner":
            line.reader = _(ref) if ref else _("Một đối tác")
        elif kind == "citizen":
            line.reader = _("Công dân có số định danh %(pin)s") % {"pin": ref}
        elif ref.startswith(REGISTRATION_ATTEMPT):
            line.reader = _(
                "Một người thử đăng ký tài khoản định danh điện tử bằng số định danh của bạn "
                "(từ địa chỉ %(ip)s)"
            ) % {"ip": ref.removeprefix(REGISTRATION_ATTEMPT).strip()}
        elif ref == "tra-cuu-ho-so":
            line.reader = _("Một người tra cứu hồ sơ bằng mã hồ sơ")
        else:
            line.reader = _("Hệ thống Motcua")


def _official(username: str) -> tuple[str, str]:
    """(the agency, the official's name) of an official's read."""
    user = get_user_model().objects.filter(username=username).first()
    name = (user.get_full_name() if user else "") or ""
    agencies = sorted(official_roles(username))
    agency = agency_get(agencies[0]).name if agencies else ""
    if agency:
        return agency, name
    return (name or _("Một cán bộ")), ""


def party_of(client_id: str) -> RelyingParty | None:
    return (
        RelyingParty.objects.select_related("application")
        .filter(application__client_id=client_id)
        .first()
    )


def live_consent_covers(account: Account, party: RelyingParty, scopes: list[str]) -> bool:
    consent = Consent.objects.filter(
        account=account, party=party, withdrawn_at__isnull=True
    ).first()
    return consent is not None and set(scopes) <= set(consent.scopes.split())


@dataclass(frozen=True)
class Contact:
    phone: str
    email: str


def contact_of(pin: str) -> Contact | None:
    """Where to reach a person about their dossiers: their e-ID account's confirmed contact."""
    row = (
        Account.objects.filter(pin=pin, contact_verified_at__isnull=False)
        .values_list("phone", "email")
        .first()
    )
    return Contact(phone=row[0], email=row[1]) if row else None


def account_exists(*, pin: str) -> bool:
    """Whether the PIN has an e-ID account, pending or active."""
    return Account.objects.filter(pin=pin).exists()


# --- the provider's tokens, for the services that accept them (the exchange's API) ----------------


@dataclass(frozen=True)
class ClientToken:
    """A live access token the provider issued."""

    client_id: str  # the client it was issued to
    scopes: tuple[str, ...]
    personal: bool  # from a person's sign-in, not the client's own (client credentials)


def client_token_check(token: str) -> ClientToken | None:
    """The access token presented as a bearer token, if the provider issued it and it has not
    expired or been revoked; None otherwise."""
    found = (
        get_access_token_model()
        .objects.filter(token_checksum=checksum(token), expires__gt=timezone.now())
        .values_list("application__client_id", "scope", "user_id")
        .first()
    )
    if found is None:
        return None
    client_id, scope, user_id = found
    return ClientToken(
        client_id=client_id, scopes=tuple((scope or "").split()), personal=bool(user_id)
    )


def id_token_subject(*, client_id: str, jti: str) -> str | None:
    """The PIN of the person an id_token (by its `jti`) was issued for, when it was issued to
    this client, has not expired, its sign-in's access token is still there (a sign-out
    everywhere or a suspended account revokes it) and the person's account is active; None
    otherwise. The caller checks the token's signature and claims first."""
    try:
        key = uuid.UUID(jti)
    except (TypeError, ValueError, AttributeError):
        return None
    issued = (
        get_id_token_model()
        .objects.filter(
            jti=key,
            access_token__isnull=False,
            application__client_id=client_id,
            expires__gt=timezone.now(),
            user__is_active=True,
        )
        .values_list("user__username", flat=True)
        .first()
    )
    return str(issued) if issued is not None else None


def level_from_acr(acr: object) -> int | None:
    """The e-ID level an `acr` value names (this provider's `urn:motcua:loa:1` or `:2`); None
    for anything else."""
    return acr_level(acr) if isinstance(acr, str) else None


# --- accounts raised to level 2, for proactive services ------------------------------------------


@dataclass(frozen=True)
class LevelRaise:
    id: int  # increasing: the stream's position
    pin: str
    raised_on: date


def level_raises_since(*, after_id: int, limit: int = 1000) -> list[LevelRaise]:
    """Accounts raised to level 2 (the in-person check that did it, or an operator's account
    made at level 2), in the order recorded, after `after_id`. A later check of an account
    already at level 2 raises nothing and is not listed."""
    earlier = LevelCheck.objects.filter(account=OuterRef("account"), pk__lt=OuterRef("pk"))
    rows = (
        LevelCheck.objects.filter(pk__gt=after_id)
        .exclude(Exists(earlier))
        .order_by("pk")
        .values_list("pk", "account__pin", "recorded_at")[: max(0, limit)]
    )
    return [LevelRaise(pk, pin, timezone.localdate(at)) for pk, pin, at in rows]
