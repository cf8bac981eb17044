"""Second factors: adding an authenticator app, the help desk's replacement, the notice that
goes to the person after every change, and the person's "this was not me"."""

from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import NotFound, ValidationFailed
from motcua.core.messaging import message_send
from motcua.identity.models import (
    Account,
)
from motcua.identity.services._shared import RAISE_PERMISSION, _self
from motcua.identity.services.sessions import sessions_end_all

DISOWN_SALT = "motcua.factor-disown"
DISOWN_VALID_S = 30 * 86400  # a notice read weeks later can still lock the account


def account_has_factor(account: Account) -> bool:
    """Any confirmed second factor: an authenticator app or a passkey (django-otp devices)."""
    return next(devices_for_user(account.user, confirmed=True), None) is not None


def totp_enroll_begin(*, account: Account) -> TOTPDevice:
    """A new, unconfirmed authenticator; it counts once a code from it is confirmed."""
    TOTPDevice.objects.filter(user_id=account.user_id, confirmed=False).delete()
    return TOTPDevice.objects.create(
        user_id=account.user_id, name=gettext_noop("Ứng dụng xác thực"), confirmed=False
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
            raise NotFound(_("Chưa bắt đầu thêm ứng dụng xác thực"))
        if not device.verify_token(code.strip()):
            raise ValidationFailed({"code": _("Mã không đúng")})
        replaced = TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).delete()[0]
        device.confirmed = True
        device.save()
        factor_changed(
            account=account,
            change="totp_replaced" if replaced else "totp_added",
            by=_self(account.pin),
        )


def totp_reset(*, actor: Actor, pin: str) -> str:
    """Help desk: replace a person's authenticator after checking who they are in person, and
    return the new secret to hand over. This is also how a suspended account is recovered:
    every session and token of the old factor ends."""
    actor.require(RAISE_PERMISSION)
    account = Account.objects.filter(pin=pin).first()
    if account is None:
        raise NotFound(_("Không có tài khoản với số định danh này"))
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user_id=account.user_id).delete()
        device = TOTPDevice.objects.create(
            user_id=account.user_id, name=gettext_noop("Ứng dụng xác thực"), confirmed=True
        )
        factor_changed(account=account, change="totp_replaced", by=actor)
        if account.suspended_at is not None:
            Account.objects.filter(pk=account.pk).update(suspended_at=None)
            audit_record(
                actor=actor,
                action="account.recovered",
                object_type="identity.account",
                object_id=pin,
                reason=gettext_noop("khôi phục trực tiếp tại cơ quan công an"),
            )
    sessions_end_all(account=account)
    return totp_secret(device)


# Without diacritics, as the other SMS texts: one GSM-7 message instead of three UCS-2 ones.
_CHANGE_TEXT = {
    "totp_added": "da them ung dung xac thuc",
    "totp_replaced": "da thay ung dung xac thuc",
    "passkey_added": "da them khoa truy cap (passkey)",
    "passkey_removed": "da xoa khoa truy cap (passkey)",
}


def factor_changed(*, account: Account, change: str, by: Actor) -> None:
    """Audit a factor change in the caller's transaction and, once it commits, tell the
    account's confirmed contacts with a link that suspends the account if it was not them."""
    audit_record(
        actor=by, action=f"factor.{change}", object_type="identity.account", object_id=account.pin
    )
    token = signing.dumps({"pin": account.pin, "change": change}, salt=DISOWN_SALT)
    link = settings.PUBLIC_URL + reverse("identity:disown", args=[token])
    text = (
        f"Motcua: tai khoan dinh danh cua ban {_CHANGE_TEXT.get(change, change)}. "
        f"Neu khong phai ban, hay khoa tai khoan ngay: {link}"
    )
    destinations = [d for d in (account.phone, account.email) if d]
    if account.contact_verified_at is None:
        destinations = []
    subject = _("Thay đổi bảo mật tài khoản Motcua")
    transaction.on_commit(lambda: _announce(destinations, subject, text))


def _announce(destinations: list[str], subject: str, text: str) -> None:
    for destination in destinations:
        message_send(destination=destination, subject=subject, text=text)


def factor_change_disowned(*, token: str) -> Account:
    """ "This was not me": the account is suspended (no sign-in until an in-person recovery),
    and every session and token it has ends."""
    try:
        data = signing.loads(token, salt=DISOWN_SALT, max_age=DISOWN_VALID_S)
    except signing.BadSignature:
        raise NotFound(_("Liên kết không hợp lệ hoặc đã hết hạn")) from None
    with transaction.atomic(durable=True):
        account = Account.objects.select_for_update().filter(pin=data["pin"]).first()
        if account is None:
            raise NotFound(_("Liên kết không hợp lệ hoặc đã hết hạn"))
        if account.suspended_at is None:
            account.suspended_at = timezone.now()
            account.save(update_fields=["suspended_at"])
            audit_record(
                actor=_self(account.pin),
                action="account.suspended",
                object_type="identity.account",
                object_id=account.pin,
                reason=gettext_noop("không phải tôi: %(change)s") % {"change": data["change"]},
            )
    sessions_end_all(account=account)
    return account
