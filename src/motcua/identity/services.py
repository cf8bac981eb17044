"""Writes of the e-ID: accounts and their levels, sign-in checks, factors, consents, and the
registration of relying parties and partners. Each write is one durable transaction with its
audit row; messages go out after commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application, RefreshToken

from motcua.core.actors import SYSTEM, Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from motcua.core.messaging import message_send
from motcua.identity.models import (
    Account,
    AccountSession,
    Consent,
    LevelCheck,
    LoginAttempt,
    OneTimeCode,
    Partner,
    RelyingParty,
)
from motcua.identity.portraits import portrait_checked
from motcua.registry.dates import PartialDate, age_on
from motcua.registry.selectors import (
    VIEW_PERMISSION,
    CitizenRecord,
    IdentityClaim,
    citizen_get,
    citizen_verify,
)

RAISE_PERMISSION = "identity.raise_level"
CODE_TTL = timedelta(minutes=5)
CODE_ATTEMPTS = 5
MIN_SELF_REGISTRATION_AGE = 6  # younger children are added by a parent (Decree 69/2024)
MIN_LEVEL2_AGE_WITHOUT_CARD = 14
OIDC_SCOPES_FOR_PARTIES = ("openid", "profile", "pin", "address")


class LoginRefused(DomainError):
    status = 401
    code = "login_refused"


def _self(pin: str) -> Actor:
    return Actor(kind="citizen", ref=pin, pin=pin)


def _own_record(pin: str) -> CitizenRecord:
    return citizen_get(actor=_self(pin), pin=pin, purpose="e-ID")


def _age(record: CitizenRecord) -> int:
    return _age_from(record.birth_date)


def _age_from(birth_date: str) -> int:
    """The youngest the person can be, for a partial date."""
    return age_on(PartialDate.parse(birth_date).latest, timezone.localdate())


# --- registration (level 1) -------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    pin: str
    full_name: str
    birth_date: str
    contact: str  # a phone number or an e-mail address
    password: str
    portrait: bytes | None = None


def account_register(*, registration: Registration, ip: str | None) -> Account:
    """Level 1: facts checked against the registry, then a code to the contact confirms it."""
    r = registration
    _check_claim_matches(r.pin, r.full_name, r.birth_date)  # so r.birth_date is the registry's
    if _age_from(r.birth_date) < MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed(
            {"birth_date": "Trẻ dưới 6 tuổi do cha mẹ đăng ký / under 6: added by a parent"}
        )
    phone, email = _contact_fields(r.contact)
    _check_password(r.password, r.pin)
    portrait = portrait_checked(r.portrait) if r.portrait else None
    with transaction.atomic(durable=True):
        account = _pending_account(r.pin)
        account.user.set_password(r.password)
        account.user.save(update_fields=["password"])
        account.phone, account.email = phone, email
        if portrait:
            account.portrait = default_storage.save(
                f"portraits/{uuid.uuid4().hex}.{portrait.extension}", ContentFile(portrait.data)
            )
        account.save()
        audit_record(
            actor=_self(r.pin),
            action="account.register",
            object_type="identity.account",
            object_id=r.pin,
            reason=f"đăng ký mức 1 từ {ip or '?'}",
            after={"level": 1, "contact": r.contact},
        )
        _code_send(account, OneTimeCode.Purpose.CONTACT, r.contact)
    return account


def _check_claim_matches(pin: str, full_name: str, birth_date: str) -> None:
    result = citizen_verify(
        actor=_self(pin),
        claim=IdentityClaim(pin=pin, full_name=full_name, birth_date=birth_date),
        purpose="đăng ký định danh điện tử",
    )
    errors = {}
    if result.pin != "match":
        errors["pin"] = "Không có công dân với số định danh này / unknown PIN"
    else:
        if result.full_name != "match":
            errors["full_name"] = "Họ tên không khớp với CSDL dân cư / name does not match"
        if result.birth_date != "match":
            errors["birth_date"] = (
                "Ngày sinh không khớp với CSDL dân cư / date of birth does not match"
            )
        if errors == {} and not result.alive:
            errors["pin"] = "Công dân đã mất / the person is deceased"
    if errors:
        raise ValidationFailed(errors)


def _contact_fields(contact: str) -> tuple[str, str]:
    contact = contact.strip()
    if "@" in contact:
        local, _, domain = contact.partition("@")
        if local and "." in domain:
            return "", contact.lower()
    digits = contact.replace(" ", "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if digits.isdigit() and len(digits) == 10 and digits.startswith("0"):
        return digits, ""
    raise ValidationFailed(
        {"contact": "Số điện thoại (10 số) hoặc email / a 10-digit phone number or an e-mail"}
    )


def _check_password(password: str, pin: str) -> None:
    try:
        password_validation.validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed({"password": " ".join(exc.messages)}) from None
    if pin in password:
        raise ValidationFailed(
            {"password": "Mật khẩu không được chứa số định danh / contains the PIN"}
        )


def _pending_account(pin: str) -> Account:
    """A new account, or the unconfirmed one of an earlier try (which the new try replaces)."""
    account = Account.objects.select_related("user").select_for_update().filter(pin=pin).first()
    if account is None:
        user = get_user_model().objects.create(username=pin)
        return Account(user=user, pin=pin)
    if account.contact_verified_at is not None or account.managed_by_id is not None:
        raise Conflict("Số định danh này đã có tài khoản / this PIN already has an account")
    return account


def _code_send(account: Account, purpose: str, destination: str) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    account.codes.filter(purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())
    OneTimeCode.objects.create(
        account=account,
        purpose=purpose,
        destination=destination,
        code_hash=_code_hash(account.pin, code),
        expires_at=timezone.now() + CODE_TTL,
    )
    text = f"Motcua: ma xac thuc cua ban la {code} (hieu luc 5 phut). Khong chia se ma nay."
    transaction.on_commit(
        lambda: message_send(destination=destination, subject="Mã xác thực Motcua", text=text)
    )


def _code_hash(pin: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{pin}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _code_try(account: Account, purpose: str, code: str) -> OneTimeCode | str:
    """The live code of this purpose used up if `code` is it, else what is wrong. A wrong try
    spends an attempt, so callers commit before they report the error."""
    live = (
        account.codes.select_for_update()
        .filter(purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )
    if live is None or live.attempts >= CODE_ATTEMPTS:
        return "Mã đã hết hạn, hãy yêu cầu mã mới / code expired, ask for a new one"
    if not hmac.compare_digest(live.code_hash, _code_hash(account.pin, code.strip())):
        live.attempts += 1
        live.save(update_fields=["attempts"])
        return "Mã không đúng / wrong code"
    live.used_at = timezone.now()
    live.save(update_fields=["used_at"])
    return live


def account_confirm_contact(*, pin: str, code: str) -> Account:
    with transaction.atomic(durable=True):
        account = Account.objects.select_for_update().filter(pin=pin).first()
        if account is None or account.contact_verified_at is not None:
            raise NotFound("Không có đăng ký chờ xác nhận / no pending registration for this PIN")
        used = _code_try(account, OneTimeCode.Purpose.CONTACT, code)
        if isinstance(used, OneTimeCode):
            account.contact_verified_at = timezone.now()
            account.save(update_fields=["contact_verified_at"])
            audit_record(
                actor=_self(pin),
                action="account.contact_confirmed",
                object_type="identity.account",
                object_id=pin,
                after={"contact": used.destination},
            )
    if not isinstance(used, OneTimeCode):
        raise ValidationFailed({"code": used})
    return account


# --- signing in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """Where a sign-in attempt comes from."""

    ip: str | None
    user_agent: str = ""


def login_check(*, pin: str, password: str, client: Client) -> Account:
    """The password step. Throttled per IP and per account; every attempt is recorded."""
    limits = settings.LOGIN_LOCKOUT
    now = timezone.now()
    since = now - timedelta(minutes=limits["ip_minutes"])
    if (
        client.ip
        and LoginAttempt.objects.filter(ip=client.ip, success=False, at__gte=since).count()
        >= limits["ip_failures"]
    ):
        _attempt(None, client, "ip_throttled")
        raise LoginRefused(
            "Quá nhiều lần thử từ địa chỉ này, hãy thử lại sau / too many attempts from this address"
        )
    account = Account.objects.select_related("user").filter(pin=pin.strip()).first()
    if account is None or not account.active:
        make_password(password)  # the same work as a real check: no timing hint of who exists
        _attempt(None, client, "unknown_account")
        raise LoginRefused(_WRONG)
    if account.locked_until and account.locked_until > now:
        _attempt(account, client, "locked")
        raise LoginRefused(_locked_message(account.locked_until))
    if not account.user.check_password(password):
        _failure(account, client, "wrong_password")
    if _own_record(account.pin).status != "living":
        _attempt(account, client, "deceased")
        raise LoginRefused("Tài khoản đã đóng: công dân đã mất / the person is deceased")
    _success(account, client, "password")
    return account


_WRONG = "Số định danh hoặc mật khẩu không đúng / wrong PIN or password"


def _locked_message(until: datetime) -> str:
    local = timezone.localtime(until)
    return (
        f"Tài khoản tạm khoá đến {local:%H:%M} do nhập sai nhiều lần / locked until {local:%H:%M}"
    )


def _attempt(
    account: Account | None, client: Client, outcome: str, *, success: bool = False
) -> None:
    with transaction.atomic(durable=True):
        _attempt_recorded(account, client, outcome, success=success)


def _attempt_recorded(
    account: Account | None,
    client: Client,
    outcome: str,
    *,
    success: bool,
    after: dict[str, object] | None = None,
) -> None:
    """The login-history row and its audit entry, in the caller's transaction."""
    LoginAttempt.objects.create(
        account=account,
        ip=client.ip,
        user_agent=client.user_agent[:300],
        success=success,
        outcome=outcome,
    )
    audit_record(
        actor=_self(account.pin) if account else Actor(kind="system", ref=client.ip or "?"),
        action="login.success" if success else "login.failure",
        object_type="identity.account",
        object_id=account.pin if account else "",
        reason=f"{outcome} từ {client.ip or '?'}",
        after=after,
    )


def _failure(account: Account, client: Client, outcome: str) -> None:
    """Count the failure; the fifth in a row locks the account for a while. Always raises."""
    limits = settings.LOGIN_LOCKOUT
    with transaction.atomic(durable=True):
        locked = Account.objects.select_for_update().get(pk=account.pk)
        locked.failed_logins += 1
        if locked.failed_logins >= limits["failures"]:
            locked.failed_logins = 0
            locked.locked_until = timezone.now() + timedelta(minutes=limits["minutes"])
        locked.save(update_fields=["failed_logins", "locked_until"])
        until = locked.locked_until
        _attempt_recorded(
            account,
            client,
            outcome,
            success=False,
            after={"locked_until": until.isoformat() if until else None},
        )
    if locked.locked_until and locked.locked_until > timezone.now():
        raise LoginRefused(_locked_message(locked.locked_until))
    raise LoginRefused(
        _WRONG if outcome == "wrong_password" else "Mã xác thực không đúng / wrong code"
    )


def _success(account: Account, client: Client, outcome: str) -> None:
    with transaction.atomic(durable=True):
        Account.objects.filter(pk=account.pk).update(failed_logins=0, locked_until=None)
        get_user_model().objects.filter(pk=account.user_id).update(last_login=timezone.now())
        _attempt_recorded(account, client, outcome, success=True)


def _confirmed_totp(account: Account) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).first()


def login_second_factor(*, account: Account, code: str, client: Client) -> int:
    """The TOTP step; returns the level the session reaches (the account's level)."""
    if account.locked_until and account.locked_until > timezone.now():
        raise LoginRefused(_locked_message(account.locked_until))
    device = _confirmed_totp(account)
    if device is None:
        raise LoginRefused("Tài khoản chưa có yếu tố xác thực thứ hai / no second factor set up")
    if not device.verify_token(code.strip()):
        _failure(account, client, "wrong_totp")
    _success(account, client, "totp")
    return int(account.level)


# --- second factor ---------------------------------------------------------------------------


def totp_enroll_begin(*, account: Account) -> TOTPDevice:
    """A new, unconfirmed authenticator; it counts once a code from it is confirmed."""
    TOTPDevice.objects.filter(user_id=account.user_id, confirmed=False).delete()
    return TOTPDevice.objects.create(
        user_id=account.user_id, name="Ứng dụng xác thực", confirmed=False
    )


def totp_pending(account: Account) -> TOTPDevice:
    """The authenticator being added, or a new one."""
    device = TOTPDevice.objects.filter(user_id=account.user_id, confirmed=False).first()
    return device or totp_enroll_begin(account=account)


def totp_secret(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def totp_enroll_confirm(*, account: Account, code: str) -> None:
    with transaction.atomic(durable=True):
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=account.user_id, confirmed=False)
            .first()
        )
        if device is None:
            raise NotFound("Chưa bắt đầu thêm ứng dụng xác thực / no enrolment in progress")
        if not device.verify_token(code.strip()):
            raise ValidationFailed({"code": "Mã không đúng / wrong code"})
        TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).delete()
        device.confirmed = True
        device.save()
        audit_record(
            actor=_self(account.pin),
            action="factor.totp_added",
            object_type="identity.account",
            object_id=account.pin,
        )


# --- level 2 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InPersonCheck:
    pin: str
    place: str
    card_number: str
    checked_at: datetime


def account_raise_level(*, actor: Actor, check: InPersonCheck) -> Account:
    """Level 2 after an in-person check at a police office, with a second factor on the account."""
    actor.require(RAISE_PERMISSION)
    account = Account.objects.filter(pin=check.pin).first()
    if account is None or not account.active:
        raise NotFound("Không có tài khoản với số định danh này / no account for this PIN")
    record = _own_record(check.pin)
    _check_level2_age(record)
    if not check.place.strip():
        raise ValidationFailed({"place": "Nêu nơi kiểm tra trực tiếp / where the check took place"})
    if check.card_number.strip() != record.pin or record.card is None:
        raise ValidationFailed(
            {
                "card_number": "Số thẻ không khớp thẻ căn cước còn hiệu lực / not the person's valid card"
            }
        )
    if _confirmed_totp(account) is None:
        raise ValidationFailed(
            {"pin": "Tài khoản cần yếu tố xác thực thứ hai trước / set up a second factor first"}
        )
    with transaction.atomic(durable=True):
        LevelCheck.objects.create(
            account=account,
            official=actor.label,
            place=check.place.strip(),
            card_number=check.card_number.strip(),
            checked_at=check.checked_at,
        )
        before = account.level
        account.level = Account.Level.TWO
        account.save(update_fields=["level"])
        audit_record(
            actor=actor,
            action="account.level_raised",
            object_type="identity.account",
            object_id=account.pin,
            reason=f"kiểm tra trực tiếp tại {check.place}",
            before={"level": before},
            after={"level": 2, "card_number": check.card_number},
        )
    return account


def _check_level2_age(record: CitizenRecord) -> None:
    age = _age(record)
    if age < MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed({"pin": "Trẻ dưới 6 tuổi chỉ có mức 1 / under 6: level 1 only"})
    if age < MIN_LEVEL2_AGE_WITHOUT_CARD and record.card is None:
        raise ValidationFailed(
            {"pin": "Từ 6 đến dưới 14 tuổi cần thẻ căn cước / age 6 to 14 needs an ID card"}
        )


# --- accounts made by operators and parents ---------------------------------------------------


def account_create(
    *, actor: Actor, pin: str, password: str, level: int = 1, contact: str = ""
) -> tuple[Account, str | None]:
    """An operator's account for an existing citizen; for level 2 also its TOTP secret."""
    actor.require(RAISE_PERMISSION)
    record = _own_record(pin)
    if record.status != "living":
        raise ValidationFailed({"pin": "Công dân đã mất / the person is deceased"})
    if level == 2:
        _check_level2_age(record)
    elif _age(record) < MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed(
            {"pin": "Trẻ dưới 6 tuổi do cha mẹ đăng ký / under 6: added by a parent"}
        )
    _check_password(password, pin)
    phone, email = _contact_fields(contact) if contact else ("", "")
    with transaction.atomic(durable=True):
        try:
            user = get_user_model().objects.create(username=pin)
        except IntegrityError:
            raise Conflict(
                "Số định danh này đã có tài khoản / this PIN already has an account"
            ) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        account = Account.objects.create(
            user=user,
            pin=pin,
            level=level,
            phone=phone,
            email=email,
            contact_verified_at=timezone.now(),
        )
        secret = None
        if level == 2:
            device = TOTPDevice.objects.create(user=user, name="Ứng dụng xác thực", confirmed=True)
            secret = totp_secret(device)
            LevelCheck.objects.create(
                account=account,
                official=actor.label,
                place="lệnh quản trị / operator command",
                card_number=pin,
                checked_at=timezone.now(),
            )
        audit_record(
            actor=actor,
            action="account.create",
            object_type="identity.account",
            object_id=pin,
            after={"level": level},
        )
    return account, secret


def child_account_add(
    *, parent: Account, child_pin: str, full_name: str, birth_date: str
) -> Account:
    """A child under 6 gets a level-1 account managed by a parent's account."""
    _check_claim_matches(child_pin, full_name, birth_date)
    # The parent reads the child's record for this check (and the read is in the child's log).
    parent_actor = Actor(
        kind="citizen", ref=parent.pin, pin=parent.pin, permissions=frozenset({VIEW_PERMISSION})
    )
    child = citizen_get(actor=parent_actor, pin=child_pin, purpose="cha mẹ thêm tài khoản của con")
    if parent.pin not in (child.father_pin, child.mother_pin):
        raise ValidationFailed({"child_pin": "Bạn không phải cha/mẹ của trẻ này / not your child"})
    if _age(child) >= MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed(
            {"child_pin": "Trẻ từ 6 tuổi tự đăng ký / from 6, children register themselves"}
        )
    with transaction.atomic(durable=True):
        try:
            user = get_user_model().objects.create(username=child_pin)
        except IntegrityError:
            raise Conflict("Trẻ đã có tài khoản / the child already has an account") from None
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = Account.objects.create(user=user, pin=child_pin, managed_by=parent)
        audit_record(
            actor=_self(parent.pin),
            action="account.child_added",
            object_type="identity.account",
            object_id=child_pin,
            after={"managed_by": parent.pin},
        )
    return account


# --- password reset --------------------------------------------------------------------------


def password_reset_begin(*, pin: str, contact: str) -> None:
    """A code to the account's confirmed contact. Says nothing about whether the pair exists."""
    account = Account.objects.filter(pin=pin.strip(), contact_verified_at__isnull=False).first()
    phone, email = _contact_fields(contact)
    if account is None or (phone, email) != (account.phone, account.email):
        return
    with transaction.atomic(durable=True):
        _code_send(account, OneTimeCode.Purpose.RESET, phone or email)


def password_reset_finish(*, pin: str, code: str, password: str, totp_code: str = "") -> None:
    """A new password by the code; an account with a second factor must also give it, so the
    reset never gets round it. Every session of the account ends."""
    account = Account.objects.select_related("user").filter(pin=pin.strip()).first()
    if account is None:
        raise ValidationFailed({"code": "Mã đã hết hạn, hãy yêu cầu mã mới / code expired"})
    device = _confirmed_totp(account)
    if device is not None and not device.verify_token(totp_code.strip()):
        raise ValidationFailed(
            {"totp_code": "Cần mã từ ứng dụng xác thực / the authenticator code is wrong"}
        )
    _check_password(password, account.pin)
    with transaction.atomic(durable=True):
        used = _code_try(account, OneTimeCode.Purpose.RESET, code)
        if isinstance(used, OneTimeCode):
            account.user.set_password(password)
            account.user.save(update_fields=["password"])
            Account.objects.filter(pk=account.pk).update(failed_logins=0, locked_until=None)
            audit_record(
                actor=_self(account.pin),
                action="account.password_reset",
                object_type="identity.account",
                object_id=account.pin,
            )
    if not isinstance(used, OneTimeCode):
        raise ValidationFailed({"code": used})
    sessions_end_all(account=account)


def password_change(*, account: Account, current: str, new: str) -> None:
    if not account.user.check_password(current):
        raise ValidationFailed({"current": "Mật khẩu hiện tại không đúng / wrong current password"})
    _check_password(new, account.pin)
    with transaction.atomic(durable=True):
        account.user.set_password(new)
        account.user.save(update_fields=["password"])
        audit_record(
            actor=_self(account.pin),
            action="account.password_changed",
            object_type="identity.account",
            object_id=account.pin,
        )


# --- sessions --------------------------------------------------------------------------------


def session_record(
    *, account: Account, session_key: str, acr: int, client: Client, replaces: str | None = None
) -> None:
    """Record a signed-in browser; a re-authentication moves the record to the new session id."""
    if replaces and AccountSession.objects.filter(
        session_key=replaces, ended_at__isnull=True
    ).update(session_key=session_key, acr=acr):
        return
    AccountSession.objects.create(
        account=account,
        session_key=session_key,
        acr=acr,
        ip=client.ip,
        user_agent=client.user_agent[:300],
    )


def session_end(*, account: Account, session_id: int) -> None:
    session = account.sessions.filter(pk=session_id, ended_at__isnull=True).first()
    if session is None:
        raise NotFound("Không có phiên này / no such session")
    _end([session], account, "session.ended")


def sessions_end_all(*, account: Account) -> int:
    """Sign out everywhere: every browser session, and every token given to relying parties."""
    live = list(account.sessions.filter(ended_at__isnull=True))
    _end(live, account, "session.ended_all")
    RefreshToken.objects.filter(user_id=account.user_id, revoked__isnull=True).update(
        revoked=timezone.now()
    )
    AccessToken.objects.filter(user_id=account.user_id).delete()
    return len(live)


def _end(sessions: list[AccountSession], account: Account, action: str) -> None:
    with transaction.atomic(durable=True):
        for session in sessions:
            SessionStore(session_key=session.session_key).delete()
        AccountSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
            ended_at=timezone.now()
        )
        audit_record(
            actor=_self(account.pin),
            action=action,
            object_type="identity.account",
            object_id=account.pin,
            after={"sessions": len(sessions)},
        )


# --- consent ---------------------------------------------------------------------------------


def consent_grant(*, account: Account, party: RelyingParty, scopes: list[str]) -> Consent:
    with transaction.atomic(durable=True):
        live = (
            Consent.objects.select_for_update()
            .filter(account=account, party=party, withdrawn_at__isnull=True)
            .first()
        )
        merged = sorted(set(scopes) | set(live.scopes.split() if live else []))
        if live:
            live.withdrawn_at = timezone.now()
            live.save(update_fields=["withdrawn_at"])
        consent = Consent.objects.create(account=account, party=party, scopes=" ".join(merged))
        audit_record(
            actor=_self(account.pin),
            action="consent.granted",
            object_type="identity.consent",
            object_id=str(consent.pk),
            after={"party": party.name, "scopes": merged},
        )
    return consent


def consent_withdraw(*, account: Account, consent_id: int) -> None:
    """The party gets nothing more: its tokens for this person are revoked at once."""
    with transaction.atomic(durable=True):
        consent = (
            Consent.objects.select_for_update()
            .select_related("party")
            .filter(pk=consent_id, account=account, withdrawn_at__isnull=True)
            .first()
        )
        if consent is None:
            raise NotFound("Không có sự đồng ý này / no such consent")
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        application_id = consent.party.application_id
        RefreshToken.objects.filter(
            user_id=account.user_id, application_id=application_id, revoked__isnull=True
        ).update(revoked=timezone.now())
        AccessToken.objects.filter(user_id=account.user_id, application_id=application_id).delete()
        audit_record(
            actor=_self(account.pin),
            action="consent.withdrawn",
            object_type="identity.consent",
            object_id=str(consent.pk),
            before={"party": consent.party.name, "scopes": consent.scopes},
        )


# --- relying parties and partners --------------------------------------------------------------

MANAGE_PERMISSION = "identity.add_relyingparty"


@dataclass(frozen=True)
class NewParty:
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    pin_claim: bool = False
    min_level: int = 1
    first_party: bool = False
    post_logout_uris: list[str] | None = (
        None  # where RP-initiated logout may return; default: redirect_uris
    )


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


def rp_add(
    *, actor: Actor, party: NewParty, client_id: str | None = None, client_secret: str | None = None
) -> tuple[RelyingParty, Credentials]:
    actor.require(MANAGE_PERMISSION)
    _check_party(party)
    secret = client_secret or secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        application = Application(
            name=party.name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(party.redirect_uris),
            post_logout_redirect_uris=" ".join(party.post_logout_uris or party.redirect_uris),
            client_secret=secret,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=False,
        )
        if client_id:
            application.client_id = client_id
        application.save()
        relying = RelyingParty.objects.create(
            application=application,
            name=party.name,
            scopes=" ".join(party.scopes),
            pin_claim=party.pin_claim,
            min_level=party.min_level,
            first_party=party.first_party,
        )
        audit_record(
            actor=actor,
            action="party.added",
            object_type="identity.relyingparty",
            object_id=application.client_id,
            after={
                "name": party.name,
                "redirect_uris": party.redirect_uris,
                "scopes": party.scopes,
                "pin_claim": party.pin_claim,
                "min_level": party.min_level,
            },
        )
    return relying, Credentials(application.client_id, secret)


def _check_party(party: NewParty) -> None:
    errors = {}
    if not party.name.strip():
        errors["name"] = "Cần tên / a name is required"
    if not party.redirect_uris:
        errors["redirect_uri"] = "Cần ít nhất một địa chỉ chuyển hướng / at least one redirect URI"
    for uri in party.redirect_uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            errors["redirect_uri"] = f"{uri}: {problem}"
    unknown = set(party.scopes) - set(OIDC_SCOPES_FOR_PARTIES)
    if unknown or "openid" not in party.scopes:
        errors["scopes"] = (
            f"Phạm vi hợp lệ / allowed: {' '.join(OIDC_SCOPES_FOR_PARTIES)} (openid bắt buộc / required)"
        )
    if party.min_level not in (1, 2):
        errors["min_level"] = "1 hoặc 2 / 1 or 2"
    if errors:
        raise ValidationFailed(errors)


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _redirect_uri_problem(uri: str) -> str | None:
    """https only; plain http only to this machine (development); no fragment, no wildcard."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "phải là URL tuyệt đối https / must be an absolute https URL"
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return "http chỉ cho máy cục bộ / http is allowed for loopback only"
    if parts.fragment or "*" in uri:
        return "không được có # hoặc * / no fragment or wildcard"
    return None


def partner_add(
    *, actor: Actor, name: str, rate_per_second: int = 50
) -> tuple[Partner, Credentials]:
    """A partner of the identity-verification API, authenticated by client credentials."""
    actor.require(MANAGE_PERMISSION)
    if not name.strip():
        raise ValidationFailed({"name": "Cần tên / a name is required"})
    if not 1 <= rate_per_second <= 100_000:
        raise ValidationFailed({"rate_per_second": "1–100000"})
    secret = secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        application = Application.objects.create(
            name=name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            algorithm=Application.RS256_ALGORITHM,
        )
        try:
            with transaction.atomic():
                partner = Partner.objects.create(
                    application=application, name=name, rate_per_second=rate_per_second
                )
        except IntegrityError:
            raise Conflict(f"Đã có đối tác {name} / a partner of this name exists") from None
        audit_record(
            actor=actor,
            action="partner.added",
            object_type="identity.partner",
            object_id=application.client_id,
            after={"name": name, "rate_per_second": rate_per_second},
        )
    return partner, Credentials(application.client_id, secret)


PORTAL_CLIENT_ID = "motcua-portal"


def portal_secret() -> str:
    """The portal's client secret, derived from the deployment's secret key: the portal and the
    provider share a process but the portal still authenticates like any relying party."""
    return hmac.new(settings.SECRET_KEY.encode(), b"portal-client", hashlib.sha256).hexdigest()


def portal_client_ensure(*, redirect_uri: str, home_uri: str) -> None:
    """Register the portal as a first-party relying party trusted with the PIN, or add the
    addresses of a new public URL to it."""
    application = Application.objects.filter(client_id=PORTAL_CLIENT_ID).first()
    if application is None:
        rp_add(
            actor=SYSTEM,
            party=NewParty(
                name="Cổng dịch vụ công Motcua",
                redirect_uris=[redirect_uri],
                post_logout_uris=[home_uri],
                scopes=list(OIDC_SCOPES_FOR_PARTIES),
                pin_claim=True,
                first_party=True,
            ),
            client_id=PORTAL_CLIENT_ID,
            client_secret=portal_secret(),
        )
    elif redirect_uri not in application.redirect_uris.split():
        with transaction.atomic(durable=True):
            application.redirect_uris = f"{application.redirect_uris} {redirect_uri}"
            application.post_logout_redirect_uris += f" {home_uri}"
            application.save(update_fields=["redirect_uris", "post_logout_redirect_uris"])
            audit_record(
                actor=SYSTEM,
                action="party.redirect_added",
                object_type="identity.relyingparty",
                object_id=PORTAL_CLIENT_ID,
                after={"redirect_uri": redirect_uri, "post_logout_uri": home_uri},
            )


def totp_reset(*, actor: Actor, pin: str) -> str:
    """Help desk: replace a person's authenticator (after checking who they are) and return
    the new secret to hand over."""
    actor.require(RAISE_PERMISSION)
    account = Account.objects.filter(pin=pin).first()
    if account is None:
        raise NotFound("Không có tài khoản với số định danh này / no account for this PIN")
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user_id=account.user_id).delete()
        device = TOTPDevice.objects.create(
            user_id=account.user_id, name="Ứng dụng xác thực", confirmed=True
        )
        audit_record(
            actor=actor,
            action="factor.totp_replaced",
            object_type="identity.account",
            object_id=pin,
        )
    return totp_secret(device)


def partner_secret_reset(*, actor: Actor, name: str) -> Credentials:
    """A new client secret for a partner (the old one stops working at once)."""
    actor.require(MANAGE_PERMISSION)
    partner = Partner.objects.select_related("application").filter(name=name).first()
    if partner is None:
        raise NotFound(f"Không có đối tác {name} / no such partner")
    secret = secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        partner.application.client_secret = secret
        partner.application.save()  # the toolkit hashes it on save
        audit_record(
            actor=actor,
            action="partner.secret_reset",
            object_type="identity.partner",
            object_id=partner.application.client_id,
        )
    return Credentials(partner.application.client_id, secret)
