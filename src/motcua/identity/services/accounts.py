"""Accounts: level-1 registration and its contact confirmation, raising to level 2, accounts made by operators and parents, password reset and change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, NotFound, ValidationFailed
from motcua.identity.models import (
    Account,
    LevelCheck,
    OneTimeCode,
)
from motcua.identity.portraits import portrait_checked
from motcua.identity.services._shared import (
    MIN_LEVEL2_AGE_WITHOUT_CARD,
    MIN_SELF_REGISTRATION_AGE,
    RAISE_PERMISSION,
    _age,
    _age_from,
    _check_password,
    _code_send,
    _code_try,
    _confirmed_totp,
    _contact_fields,
    _own_record,
    _self,
)
from motcua.identity.services.factors import totp_secret
from motcua.identity.services.sessions import sessions_end_all
from motcua.registry.selectors import (
    VIEW_PERMISSION,
    CitizenRecord,
    IdentityClaim,
    citizen_get,
    citizen_verify,
)


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


def _pending_account(pin: str) -> Account:
    """A new account, or the unconfirmed one of an earlier try (which the new try replaces)."""
    account = Account.objects.select_related("user").select_for_update().filter(pin=pin).first()
    if account is None:
        user = get_user_model().objects.create(username=pin)
        return Account(user=user, pin=pin)
    if account.contact_verified_at is not None or account.managed_by_id is not None:
        raise Conflict("Số định danh này đã có tài khoản / this PIN already has an account")
    return account


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
