"""Helpers of the e-ID's services: the person as an actor, their own registry record and age, one-time codes, contacts and passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import Actor
from motcua.core.errors import DomainError, ValidationFailed
from motcua.core.messaging import message_send
from motcua.core.text import fold
from motcua.identity.limits import Limit, limit_hit
from motcua.identity.models import (
    Account,
    OneTimeCode,
)
from motcua.registry.selectors import (
    CitizenRecord,
    PartialDate,
    age_on,
    citizen_get,
)

RAISE_PERMISSION = "identity.raise_level"
CODE_TTL = timedelta(minutes=5)
CODE_ATTEMPTS = 5
MIN_SELF_REGISTRATION_AGE = 6  # younger children are added by a parent (Decree 69/2024)
MIN_LEVEL2_AGE_WITHOUT_CARD = 14


class LoginRefused(DomainError):
    status = 401
    code = "login_refused"


def _self(pin: str) -> Actor:
    return Actor(kind="citizen", ref=pin, pin=pin)


def _own_record(pin: str) -> CitizenRecord:
    return citizen_get(actor=_self(pin), pin=pin, purpose=gettext_noop("Định danh điện tử"))


def _age(record: CitizenRecord) -> int:
    return _age_from(record.birth_date)


def _age_from(birth_date: str) -> int:
    """The youngest the person can be, for a partial date."""
    return age_on(PartialDate.parse(birth_date).latest, timezone.localdate())


# --- registration (level 1) -------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """Where a sign-in attempt comes from."""

    ip: str | None
    user_agent: str = ""


# Words an attacker tries first against this platform (docs/security.md, V6.2.11), compared
# without accents, case, spaces or punctuation.
CONTEXT_WORDS = ("motcua", "dinhdanh", "dichvucong", "vneid", "congan")


def _squeezed(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())


def _check_password(password: str, pin: str, *, full_name: str = "", birth_date: str = "") -> None:
    """Django's validators (length, the common passwords), then what is about this person and
    this platform: the PIN, the words above, the name and the birth date."""
    try:
        password_validation.validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed({"password": " ".join(exc.messages)}) from None
    if pin in password:
        raise ValidationFailed({"password": _("Mật khẩu không được chứa số định danh")})
    squeezed = _squeezed(password)
    personal = [_squeezed(full_name), *_date_forms(birth_date)]
    if any(word and word in squeezed for word in (*CONTEXT_WORDS, *personal)):
        raise ValidationFailed(
            {"password": _("Mật khẩu không được chứa tên, ngày sinh hay tên dịch vụ")}
        )


def _date_forms(birth_date: str) -> list[str]:
    """08/03/1990 as people write it in passwords: 08031990, 19900308."""
    parts = birth_date.split("-")
    if len(parts) != 3:
        return []
    year, month, day = parts
    return [f"{day}{month}{year}", f"{year}{month}{day}"]


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
    raise ValidationFailed({"contact": _("Nhập số điện thoại (10 chữ số) hoặc địa chỉ email")})


def _confirmed_totp(account: Account) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).first()


class TooManyAttempts(DomainError):
    status = 429
    code = "rate_limited"


CODE_EXPIRED = gettext_lazy("Mã đã hết hạn, hãy yêu cầu mã mới")


def _code_quota_keys(account: Account, destination: str, client: Client | None) -> dict[str, str]:
    keys = {
        "destination_gap": f"code:destination:{destination}",
        "destination": f"code:destination:{destination}",
        "destination_day": f"code:destination:{destination}",
        "pin": f"code:pin:{account.pin}",
    }
    if client is not None and client.ip:
        keys["address"] = f"code:address:{client.ip}"
    return keys


def _code_quota_allows(account: Account, destination: str, client: Client | None) -> bool:
    """Codes cost money and reach a person's phone: a growing gap between codes to one
    destination (a minute, then three an hour, five a day), and caps per PIN and address."""
    limits = settings.CODE_LIMITS
    for name, key in _code_quota_keys(account, destination, client).items():
        limit = Limit(**limits[name])
        if not limit_hit(f"{key}:{limit.window_s}", limit=limit):
            return False
    return True


def code_send(
    account: Account, purpose: str, destination: str, *, client: Client | None = None
) -> bool:
    """A new code of `purpose` to `destination`, within the quotas; False if none was sent."""
    if not _code_quota_allows(account, destination, client):
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    account.codes.filter(purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())
    OneTimeCode.objects.create(
        account=account,
        purpose=purpose,
        destination=destination,
        code_hash=_code_hash(account.pin, code),
        expires_at=timezone.now() + CODE_TTL,
    )
    # Without diacritics on purpose: one GSM-7 SMS instead of three UCS-2 ones.
    text = f"Motcua: ma xac thuc cua ban la {code} (hieu luc 5 phut). Khong chia se ma nay."
    subject = _("Mã xác thực Motcua")
    transaction.on_commit(lambda: message_send(destination=destination, subject=subject, text=text))
    return True


def _code_hash(pin: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{pin}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _code_try(
    account: Account, purpose: str, code: str, *, spend: bool = True
) -> OneTimeCode | str:
    """The live code of this purpose (used up, unless `spend` is False) if `code` is it, else
    what is wrong. A wrong try costs an attempt, so callers commit before they report it."""
    live = (
        account.codes.select_for_update()
        .filter(purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )
    if live is None or live.attempts >= CODE_ATTEMPTS:
        return str(CODE_EXPIRED)
    if not hmac.compare_digest(live.code_hash, _code_hash(account.pin, code.strip())):
        live.attempts += 1
        live.save(update_fields=["attempts"])
        return _("Mã không đúng")
    if spend:
        live.used_at = timezone.now()
        live.save(update_fields=["used_at"])
    return live
