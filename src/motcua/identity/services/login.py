"""Signing in: the password step and the second-factor step, throttled, every attempt recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.identity.models import (
    Account,
    LoginAttempt,
)
from motcua.identity.services._shared import (
    Client,
    LoginRefused,
    _confirmed_totp,
    _own_record,
    _self,
)


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
_SUSPENDED = (
    "Tài khoản đã bị khoá theo yêu cầu của bạn; hãy đến cơ quan công an để mở lại "
    "/ the account is suspended; visit the police to recover it"
)


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


def login_factor_passed(*, account: Account, client: Client, method: str) -> int:
    """A second factor verified elsewhere (a passkey's assertion): recorded like the TOTP step;
    returns the level the session reaches."""
    if account.suspended_at is not None:
        raise LoginRefused(_SUSPENDED)
    if account.locked_until and account.locked_until > timezone.now():
        raise LoginRefused(_locked_message(account.locked_until))
    _success(account, client, method)
    return int(account.level)


# --- second factor ---------------------------------------------------------------------------
