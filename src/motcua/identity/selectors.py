"""Reads for the person's own pages and for the provider: plain data, never querysets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.core.access import access_log_of
from motcua.core.actors import Actor
from motcua.identity.models import Account, AccountSession, Consent, LoginAttempt, RelyingParty
from motcua.registry.selectors import CitizenRecord, citizen_get


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
    level: int
    current: bool


@dataclass(frozen=True)
class LoginView:
    at: datetime
    ip: str | None
    user_agent: str
    success: bool
    outcome: str


@dataclass(frozen=True)
class AccessView:
    at: datetime
    reader: str
    reader_kind: str
    data: str
    purpose: str


@dataclass(frozen=True)
class AccountOverview:
    pin: str
    level: int
    contact: str
    has_totp: bool
    record: CitizenRecord
    consents: list[ConsentView]
    sessions: list[SessionView]
    logins: list[LoginView]
    children: list[str]


def account_overview(*, account: Account, session_key: str | None) -> AccountOverview:
    """Everything the person's account page shows; their own record is read as themselves."""
    record = citizen_get(
        actor=Actor(kind="citizen", ref=account.pin, pin=account.pin),
        pin=account.pin,
        purpose="e-ID",
    )
    return AccountOverview(
        pin=account.pin,
        level=account.level,
        contact=account.phone or account.email,
        has_totp=TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).exists(),
        record=record,
        consents=consents_of(account),
        sessions=sessions_of(account, session_key),
        logins=logins_of(account),
        children=list(account.children.values_list("pin", flat=True)),
    )


def consents_of(account: Account) -> list[ConsentView]:
    scopes = settings.OIDC_SCOPES
    return [
        ConsentView(c.pk, c.party.name, [scopes.get(s, s) for s in c.scopes.split()], c.granted_at)
        for c in Consent.objects.filter(account=account, withdrawn_at__isnull=True)
        .select_related("party")
        .order_by("-granted_at")
    ]


def sessions_of(account: Account, session_key: str | None) -> list[SessionView]:
    return [
        SessionView(
            s.pk,
            s.started_at,
            s.last_seen_at,
            s.ip,
            s.user_agent,
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


def logins_of(account: Account, limit: int = 20) -> list[LoginView]:
    return [
        LoginView(a.at, a.ip, a.user_agent, a.success, a.outcome)
        for a in LoginAttempt.objects.filter(account=account).order_by("-at")[:limit]
    ]


def access_history(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    reader: str = "",
) -> list[AccessView]:
    """ "Who read my data": every access-log row about the person, newest first."""
    return [
        AccessView(
            row.at, row.actor.partition(":")[2] or row.actor, row.actor_kind, row.data, row.purpose
        )
        for row in access_log_of(pin=account.pin, since=since, until=until, reader=reader)
    ]


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
