"""Signed-in browsers: recorded, ended one by one or everywhere (with the tokens given to parties)."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, RefreshToken

from motcua.core.audit import audit_record
from motcua.core.errors import NotFound
from motcua.identity.models import (
    Account,
    AccountSession,
)
from motcua.identity.services._shared import Client, _self


def session_record(
    *, account: Account, session_key: str, acr: int, client: Client, replaces: str | None = None
) -> int:
    """Record a signed-in browser; a re-authentication moves the record to the new session id.
    Returns the record's id."""
    if replaces:
        moved = AccountSession.objects.filter(session_key=replaces, ended_at__isnull=True).first()
        if moved is not None:
            moved.session_key, moved.acr = session_key, acr
            moved.save(update_fields=["session_key", "acr"])
            return moved.pk
    return AccountSession.objects.create(
        account=account,
        session_key=session_key,
        acr=acr,
        ip=client.ip,
        user_agent=client.user_agent[:300],
    ).pk


def session_rekeyed(*, record_id: int, session_key: str) -> None:
    """The browser's session got a new id (another part of the site cycled it, as the portal
    does at its own sign-in): the record follows, so the session stays listed as live."""
    AccountSession.objects.filter(pk=record_id, ended_at__isnull=True).update(
        session_key=session_key
    )


def session_end(*, account: Account, session_id: int) -> None:
    session = account.sessions.filter(pk=session_id, ended_at__isnull=True).first()
    if session is None:
        raise NotFound(_("Không có phiên đăng nhập này"))
    _end([session], account, "session.ended")


def sessions_end_all(*, account: Account) -> int:
    """Sign out everywhere: every browser session, and every token given to relying parties."""
    live = list(account.sessions.filter(ended_at__isnull=True))
    _end(live, account, "session.ended_all")
    tokens_revoke(account=account)
    return len(live)


def sessions_end_for_pin(*, pin: str) -> int:
    """A person recorded dead: every session and token of their e-ID ends at once (signing in
    again is refused by the login's own check of the registry)."""
    account = Account.objects.filter(pin=pin).first()
    return sessions_end_all(account=account) if account is not None else 0


def tokens_revoke(*, account: Account) -> None:
    """Every token given to relying parties for this person stops working."""
    RefreshToken.objects.filter(user_id=account.user_id, revoked__isnull=True).update(
        revoked=timezone.now()
    )
    AccessToken.objects.filter(user_id=account.user_id).delete()


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
