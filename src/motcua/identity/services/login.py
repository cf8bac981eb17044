"""Signing in: the password step and the second-factor step of the e-ID, and the one throttle
that every password check of the platform goes through (the back office and the admin reach
it through identity.backends). Failures are counted in the shared store per address and
account together, per account, and per address; refused attempts are never counted, so a
crowd behind one address is not locked out by a few. Every attempt is recorded."""

from __future__ import annotations

from typing import NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.identity.limits import Limit, limits_clear, limits_count, limits_reached
from motcua.identity.models import Account, LoginAttempt
from motcua.identity.services._shared import (
    Client,
    LoginRefused,
    _confirmed_totp,
    _own_record,
    _self,
)

_WRONG = gettext_lazy("Số định danh hoặc mật khẩu không đúng")
_WRONG_CODE = gettext_lazy("Mã xác thực không đúng")
_THROTTLED = gettext_lazy("Quá nhiều lần thử sai, hãy thử lại sau ít phút")
_SUSPENDED = gettext_lazy(
    "Tài khoản đã bị khoá theo yêu cầu của bạn; hãy đến cơ quan công an để mở lại"
)


# --- the shared throttle -----------------------------------------------------------------------


def _throttle_keys(username: str, client: Client) -> dict[str, str]:
    keys = {"account": f"login:account:{username}"}
    if client.ip:
        keys["pair"] = f"login:pair:{client.ip}:{username}"
        keys["address"] = f"login:address:{client.ip}"
    return keys


def _limit(name: str) -> Limit:
    return Limit(**settings.LOGIN_LIMITS[name])


def _throttle(username: str, client: Client) -> dict[str, Limit]:
    return {key: _limit(name) for name, key in _throttle_keys(username, client).items()}


def password_attempt_allowed(*, username: str, client: Client) -> bool:
    """Whether a password (or code) for `username` from this client may be checked now."""
    return not limits_reached(_throttle(username, client))


def password_failed(*, username: str, client: Client) -> None:
    limits_count(_throttle(username, client))


def password_succeeded(*, username: str, client: Client) -> None:
    keys = _throttle_keys(username, client)
    limits_clear([key for name, key in keys.items() if name != "address"])


# --- the e-ID's sign-in ------------------------------------------------------------------------


def login_check(*, pin: str, password: str, client: Client) -> Account:
    """The password step. One answer for an unknown account, a wrong password and an account
    that is not active, with the same work done for each."""
    username = pin.strip()
    account = Account.objects.select_related("user").filter(pin=username).first()
    if not password_attempt_allowed(username=username, client=client):
        _attempt(account, username, client, "throttled")
        raise LoginRefused(_THROTTLED)
    if account is None or not account.active:
        make_password(password)  # the same work as a real check: no timing hint of who exists
        _refuse(None, username, client, "unknown_account")
    if not account.user.check_password(password):
        _refuse(account, username, client, "wrong_password")
    if account.suspended_at is not None:
        _attempt(account, username, client, "suspended")
        raise LoginRefused(_SUSPENDED)
    if _own_record(account.pin).status != "living":
        _attempt(account, username, client, "deceased")
        raise LoginRefused(_("Tài khoản đã đóng vì công dân đã mất"))
    _success(account, client, "password")
    return account


def _attempt(account: Account | None, username: str, client: Client, outcome: str) -> None:
    with transaction.atomic(durable=True):
        _attempt_recorded(account, username, client, outcome, success=False)


def _attempt_recorded(
    account: Account | None, username: str, client: Client, outcome: str, *, success: bool
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
        object_id=username[:100],
        reason=gettext_noop("%(outcome)s từ %(ip)s") % {"outcome": outcome, "ip": client.ip or "?"},
    )


def _refuse(account: Account | None, username: str, client: Client, outcome: str) -> NoReturn:
    """Count the failure and refuse. Always raises."""
    with transaction.atomic(durable=True):
        password_failed(username=username, client=client)
        _attempt_recorded(account, username, client, outcome, success=False)
    raise LoginRefused(_WRONG if outcome in ("wrong_password", "unknown_account") else _WRONG_CODE)


def _success(account: Account, client: Client, outcome: str) -> None:
    with transaction.atomic(durable=True):
        password_succeeded(username=account.pin, client=client)
        get_user_model().objects.filter(pk=account.user_id).update(last_login=timezone.now())
        _attempt_recorded(account, account.pin, client, outcome, success=True)


def staff_attempt_recorded(*, username: str, client: Client, success: bool) -> None:
    """A password check by the back office or the admin (through identity.backends)."""
    with transaction.atomic(durable=True):
        if success:
            password_succeeded(username=username, client=client)
        else:
            password_failed(username=username, client=client)
        _attempt_recorded(
            None, username, client, "staff_password" if success else "staff_wrong", success=success
        )


def login_second_factor(*, account: Account, code: str, client: Client) -> int:
    """The TOTP step; returns the level the session reaches (the account's level)."""
    _check_may_try_factor(account, client)
    device = _confirmed_totp(account)
    if device is None:
        raise LoginRefused(_("Tài khoản chưa có yếu tố xác thực thứ hai"))
    if not device.verify_token(code.strip()):
        _refuse(account, account.pin, client, "wrong_totp")
    _success(account, client, "totp")
    return int(account.level)


def _check_may_try_factor(account: Account, client: Client) -> None:
    if account.suspended_at is not None:
        raise LoginRefused(_SUSPENDED)
    if not password_attempt_allowed(username=account.pin, client=client):
        _attempt(account, account.pin, client, "throttled")
        raise LoginRefused(_THROTTLED)


def login_factor_passed(*, account: Account, client: Client, method: str) -> int:
    """A second factor verified elsewhere (a passkey's assertion): recorded like the TOTP step;
    returns the level the session reaches."""
    _check_may_try_factor(account, client)
    _success(account, client, method)
    return int(account.level)


# --- second factor ---------------------------------------------------------------------------
