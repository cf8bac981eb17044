"""Accounts: level-1 registration and its contact confirmation, raising to level 2, accounts made by operators and parents, password reset and change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, ValidationFailed
from motcua.core.messaging import message_send
from motcua.core.uploads import bytes_store
from motcua.identity.limits import Limit, limit_hit
from motcua.identity.models import Account, LevelCheck, OneTimeCode
from motcua.identity.portraits import Portrait, PortraitUpload, portrait_checked
from motcua.identity.services._shared import (
    CODE_EXPIRED,
    MIN_LEVEL2_AGE_WITHOUT_CARD,
    MIN_SELF_REGISTRATION_AGE,
    RAISE_PERMISSION,
    Client,
    TooManyAttempts,
    _age,
    _age_from,
    _check_password,
    _code_try,
    _confirmed_totp,
    _contact_fields,
    _own_record,
    _self,
    code_send,
)
from motcua.identity.services.factors import account_has_factor, totp_secret
from motcua.identity.services.sessions import sessions_end_all, tokens_revoke
from motcua.registry.selectors import (
    VIEW_PERMISSION,
    CitizenRecord,
    ContactOnRecord,
    IdentityClaim,
    citizen_contacts_on_record,
    citizen_get,
    citizen_verify,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Registration:
    pin: str
    full_name: str
    birth_date: str
    password: str
    portrait: PortraitUpload | None = None


REGISTRATION_SENT = gettext_lazy(
    "Nếu thông tin khớp với Cơ sở dữ liệu quốc gia về dân cư và hồ sơ của bạn có số điện thoại "
    "hoặc email, mã xác nhận đã được gửi tới đó. Không nhận được mã: hãy đến cơ quan công an "
    "để kích hoạt tài khoản."
)
# The purpose of a parent's read of their child's record (shown in the child's access log).
CHILD_PURPOSE = gettext_noop("cha mẹ thêm tài khoản của con")
# Who tries a registration, as the claimed person's access log names it (with the address).
REGISTRATION_ATTEMPT = "eid-registration"


def account_register(*, registration: Registration, client: Client) -> None:
    """Level 1, for whoever holds the phone or e-mail the registry has on record for the person:
    the claim is checked, then a code goes to that contact, never to one the registrant types.

    The answer is the same whether the PIN is unknown, the name or date is wrong, the person
    has died, has no contact on record or already has an account (then the person is told by
    a message instead): the page is no oracle of the registry. Every attempt is limited per
    address and per claimed PIN, and shows in the claimed person's "who read my data"."""
    r = registration
    portrait = _check_registration_fields(r)
    _registration_allowed(r.pin, client)
    contact = _verified_contact(r, client)
    if contact is None:
        return
    with transaction.atomic(durable=True):
        account = _pending_account(r.pin)
        if account is None:
            _tell_already_registered(contact.value)
            return
        account.user.set_password(r.password)
        account.user.save(update_fields=["password"])
        account.phone, account.email = (
            (contact.value, "") if contact.kind == "phone" else ("", contact.value)
        )
        if portrait:
            account.portrait = bytes_store(
                portrait.data, folder="portraits", extension=f".{portrait.extension}"
            )
        account.save()
        audit_record(
            actor=_self(r.pin),
            action="account.register",
            object_type="identity.account",
            object_id=r.pin,
            reason=gettext_noop("đăng ký mức 1 từ %(ip)s") % {"ip": client.ip or "?"},
            after={"level": 1, "contact": contact.masked},
        )
        code_send(account, OneTimeCode.Purpose.CONTACT, contact.value, client=client)


def _check_registration_fields(r: Registration) -> Portrait | None:
    """What can be judged without the registry, all at once; the checked portrait."""
    errors: dict[str, StrOrPromise] = {}
    if not (r.pin.isdigit() and len(r.pin) == 12):
        errors["pin"] = _("Số định danh gồm đúng 12 chữ số")
    try:
        if _age_from(r.birth_date) < MIN_SELF_REGISTRATION_AGE:
            errors["birth_date"] = _("Trẻ dưới 6 tuổi do cha hoặc mẹ đăng ký")
    except ValueError as exc:
        errors["birth_date"] = str(exc)
    try:
        _check_password(r.password, r.pin, full_name=r.full_name, birth_date=r.birth_date)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    portrait = None
    try:
        portrait = portrait_checked(r.portrait) if r.portrait else None
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return portrait


def _registration_allowed(pin: str, client: Client) -> None:
    limits = settings.REGISTRATION_LIMITS
    keys = {"pin": f"register:pin:{pin}"}
    if client.ip:
        keys["address"] = f"register:address:{client.ip}"
    if not all(limit_hit(key, limit=Limit(**limits[name])) for name, key in keys.items()):
        raise TooManyAttempts(_("Quá nhiều lần đăng ký, hãy thử lại sau"))


def _verified_contact(r: Registration, client: Client) -> ContactOnRecord | None:
    """The contact on record of the claimed person if the claim holds, else None. The check
    reads the registry in the claimed person's name, so it shows in their access log."""
    attempt = Actor(kind="system", ref=f"{REGISTRATION_ATTEMPT} {client.ip or '?'}")
    result = citizen_verify(
        actor=attempt,
        claim=IdentityClaim(pin=r.pin, full_name=r.full_name, birth_date=r.birth_date),
        purpose=gettext_noop("đăng ký tài khoản định danh điện tử mức 1 (lần thử)"),
    )
    if not (result.matches and result.alive):
        return None
    contacts = citizen_contacts_on_record(pin=r.pin)
    return contacts[0] if contacts else None


def _tell_already_registered(destination: str) -> None:
    text = (
        # Without diacritics on purpose: one GSM-7 SMS instead of three UCS-2 ones.
        "Motcua: co nguoi vua dang ky tai khoan dinh danh bang so dinh danh cua ban, nhung ban "
        "da co tai khoan. Neu khong phai ban, khong can lam gi; hay dung chuc nang quen mat khau."
    )
    subject = _("Đăng ký tài khoản Motcua")
    transaction.on_commit(lambda: message_send(destination=destination, subject=subject, text=text))


def _check_claim_matches(pin: str, full_name: str, birth_date: str) -> None:
    """For a parent adding a child: the signed-in parent sees which field is wrong."""
    result = citizen_verify(
        actor=_self(pin),
        claim=IdentityClaim(pin=pin, full_name=full_name, birth_date=birth_date),
        purpose=CHILD_PURPOSE,
    )
    errors = {}
    if result.pin != "match":
        errors["child_pin"] = _("Không có công dân với số định danh này")
    else:
        if result.full_name != "match":
            errors["full_name"] = _("Họ tên không khớp với Cơ sở dữ liệu dân cư")
        if result.birth_date != "match":
            errors["birth_date"] = _("Ngày sinh không khớp với Cơ sở dữ liệu dân cư")
    if errors:
        raise ValidationFailed(errors)


def _pending_account(pin: str) -> Account | None:
    """A new account, or the unconfirmed one of an earlier try (which the new try replaces);
    None when the PIN already has an account."""
    account = Account.objects.select_related("user").select_for_update().filter(pin=pin).first()
    if account is None:
        user = get_user_model().objects.create(username=pin)
        return Account(user=user, pin=pin)
    if account.contact_verified_at is not None or account.managed_by_id is not None:
        return None
    return account


def account_confirm_contact(*, pin: str, code: str) -> Account:
    with transaction.atomic(durable=True):
        account = Account.objects.select_for_update().filter(pin=pin).first()
        if account is None or account.contact_verified_at is not None:
            raise ValidationFailed({"code": CODE_EXPIRED})  # the same answer as a stale code
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
    if account is None or not account.active:  # the official typed it: said beside the field
        raise ValidationFailed({"pin": _("Không có tài khoản đã kích hoạt với số định danh này")})
    record = _own_record(check.pin)
    errors: dict[str, StrOrPromise] = {}  # every problem at once
    try:
        _check_level2_age(record)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not check.place.strip():
        errors["place"] = _("Nhập nơi kiểm tra trực tiếp")
    if check.card_number.strip() != record.pin or not _card_valid(record):
        errors["card_number"] = _("Số thẻ không khớp thẻ căn cước còn hiệu lực của người này")
    if not account_has_factor(account):
        errors["pin"] = _("Tài khoản cần có yếu tố xác thực thứ hai trước khi nâng mức")
    if errors:
        raise ValidationFailed(errors)
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
            reason=gettext_noop("kiểm tra trực tiếp tại %(place)s") % {"place": check.place},
            before={"level": before},
            after={"level": 2, "card_number": check.card_number},
        )
    return account


def _card_valid(record: CitizenRecord) -> bool:
    """An active card that has not expired (a card past its date proves nothing)."""
    card = record.card
    return card is not None and (card.expires_on is None or card.expires_on >= timezone.localdate())


def _check_level2_age(record: CitizenRecord) -> None:
    age = _age(record)
    if age < MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed({"pin": _("Trẻ dưới 6 tuổi chỉ có tài khoản mức 1")})
    if age < MIN_LEVEL2_AGE_WITHOUT_CARD and record.card is None:
        raise ValidationFailed({"pin": _("Từ 6 đến dưới 14 tuổi cần có thẻ căn cước để lên mức 2")})


# --- accounts made by operators and parents ---------------------------------------------------


def account_create(
    *, actor: Actor, pin: str, password: str, level: int = 1, contact: str = ""
) -> tuple[Account, str | None]:
    """An operator's account for an existing citizen; for level 2 also its TOTP secret."""
    actor.require(RAISE_PERMISSION)
    record = _own_record(pin)
    if record.status != "living":
        raise ValidationFailed({"pin": _("Công dân đã mất")})
    if level == 2:
        _check_level2_age(record)
    elif _age(record) < MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed({"pin": _("Trẻ dưới 6 tuổi do cha hoặc mẹ đăng ký")})
    _check_password(password, pin)
    phone, email = _contact_fields(contact) if contact else ("", "")
    with transaction.atomic(durable=True):
        try:
            user = get_user_model().objects.create(username=pin)
        except IntegrityError:
            raise Conflict(_("Số định danh này đã có tài khoản")) from None
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
            device = TOTPDevice.objects.create(
                user=user, name=gettext_noop("Ứng dụng xác thực"), confirmed=True
            )
            secret = totp_secret(device)
            LevelCheck.objects.create(
                account=account,
                official=actor.label,
                place=gettext_noop("lệnh quản trị"),
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
    child = citizen_get(actor=parent_actor, pin=child_pin, purpose=CHILD_PURPOSE)
    if parent.pin not in (child.father_pin, child.mother_pin):
        raise ValidationFailed({"child_pin": _("Bạn không phải cha/mẹ của trẻ này")})
    if _age(child) >= MIN_SELF_REGISTRATION_AGE:
        raise ValidationFailed({"child_pin": _("Trẻ từ 6 tuổi tự đăng ký tài khoản")})
    with transaction.atomic(durable=True):
        try:
            user = get_user_model().objects.create(username=child_pin)
        except IntegrityError:
            raise Conflict(_("Trẻ đã có tài khoản")) from None
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


def password_reset_begin(*, pin: str, contact: str, client: Client) -> None:
    """A code to the account's confirmed contact, within the code quotas. Says nothing about
    whether the pair exists."""
    account = Account.objects.filter(pin=pin.strip(), contact_verified_at__isnull=False).first()
    phone, email = _contact_fields(contact)
    if account is None or (phone, email) != (account.phone, account.email):
        return
    with transaction.atomic(durable=True):
        code_send(account, OneTimeCode.Purpose.RESET, phone or email, client=client)


def password_reset_finish(*, pin: str, code: str, password: str, totp_code: str = "") -> None:
    """A new password by the code; an account with a second factor must also give it, so the
    reset never gets round it. The code is checked first: without it nobody learns whether the
    account has an authenticator nor spends the authenticator's own throttle. Every session
    and token of the account ends."""
    _check_password(password, pin.strip())
    account = Account.objects.select_related("user").filter(pin=pin.strip()).first()
    if account is None:
        raise ValidationFailed({"code": CODE_EXPIRED})
    with transaction.atomic(durable=True):
        used = _code_try(account, OneTimeCode.Purpose.RESET, code, spend=False)
        if not isinstance(used, OneTimeCode):
            problem = {"code": used}
        elif not _second_factor_given(account, totp_code):
            used.attempts += 1  # a wrong authenticator code costs a try of the reset code
            used.save(update_fields=["attempts"])
            problem = {"totp_code": _("Mã từ ứng dụng xác thực không đúng")}
        else:
            used.used_at = timezone.now()
            used.save(update_fields=["used_at"])
            _password_set(account, password, "account.password_reset")
            problem = {}
    if problem:  # after the commit, so that the spent try counts
        raise ValidationFailed(problem)
    sessions_end_all(account=account)


def _second_factor_given(account: Account, totp_code: str) -> bool:
    """The authenticator's code, if the account has one. A passkey cannot be shown on this page:
    an account whose only factor is a passkey is reset in person, never by the code alone."""
    device = _confirmed_totp(account)
    if device is None:
        return not account_has_factor(account)
    return bool(device.verify_token(totp_code.strip()))


def password_change(*, account: Account, current: str, new: str) -> None:
    """A new password; tokens given to relying parties end with the old one."""
    if not account.user.check_password(current):
        raise ValidationFailed({"current": _("Mật khẩu hiện tại không đúng")})
    _check_password(new, account.pin)
    with transaction.atomic(durable=True):
        _password_set(account, new, "account.password_changed")
        tokens_revoke(account=account)


def _password_set(account: Account, password: str, action: str) -> None:
    """The new password and its audit entry, in the caller's transaction."""
    account.user.set_password(password)
    account.user.save(update_fields=["password"])
    audit_record(
        actor=_self(account.pin),
        action=action,
        object_type="identity.account",
        object_id=account.pin,
    )


# --- sessions --------------------------------------------------------------------------------
