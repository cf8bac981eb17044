"""Second factors: adding an authenticator app, and the help desk's replacement."""

from __future__ import annotations

from base64 import b32encode

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import NotFound, ValidationFailed
from motcua.identity.models import (
    Account,
)
from motcua.identity.services._shared import RAISE_PERMISSION, _self


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
