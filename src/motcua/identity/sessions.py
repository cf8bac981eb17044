"""The e-ID session in the browser: which level it reached and when, kept in the Django session
under "eid". A new session id at every (re)authentication; idle and absolute limits by level."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest

from motcua.core.clients import client_ip
from motcua.identity.models import Account, AccountSession
from motcua.identity.services import (
    Client,
    account_has_factor,
    session_record,
    session_rekeyed,
)

KEY = "eid"
TOUCH_EVERY_S = 60  # write "last seen" at most once a minute, not on every request
REAUTH_WITHIN_S = 5 * 60  # changing factors, contacts or the password needs an auth this recent


def request_client(request: HttpRequest) -> Client:
    return Client(ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))


def session_begin(
    request: HttpRequest, account: Account, *, acr: int, factor: bool = False, full_name: str = ""
) -> None:
    """Sign in (or re-authenticate, or step up): always under a new session id. `factor` says
    that a second factor was just proven (its time decides who may change factors)."""
    previous = request.session.session_key
    same_person = request.user.is_authenticated and request.user.pk == account.user_id
    earlier = (session_state(request) or {}) if same_person else {}
    login(request, account.user, backend="motcua.identity.backends.ThrottledBackend")
    request.session.cycle_key()  # login() keeps the id when the same user signs in again
    now = time.time()
    factor_time = now if factor else earlier.get("factor_time", 0)
    request.session[KEY] = {
        "acr": acr,
        "auth_time": now,
        "last_seen": now,
        "pin": account.pin,
        "name": full_name or earlier.get("name", ""),
        "factor_time": factor_time,
    }
    request.session.save()
    key = request.session.session_key or ""
    record = session_record(
        account=account,
        session_key=key,
        acr=acr,
        client=request_client(request),
        replaces=previous if same_person else None,
    )
    request.session[KEY] = {**request.session[KEY], "record": record, "key": key}


def session_follow_key(request: HttpRequest) -> None:
    """After a view: when the session's id changed under the e-ID session (the portal cycles it
    at its own sign-in), move the record of this browser to the new id. Without this the
    record kept the old id, whose Django session was gone, and "my sessions" listed nothing."""
    state = session_state(request)
    key = request.session.session_key
    if not state or not key or state.get("key") == key or "record" not in state:
        return
    session_rekeyed(record_id=int(state["record"]), session_key=key)
    request.session[KEY] = {**state, "key": key}


def factor_change_allowed(request: HttpRequest, account: Account) -> bool:
    """Adding, replacing or removing a factor needs a fresh sign-in at the account's own level
    with an existing factor; only an account without any factor may add its first one after a
    fresh password sign-in. So a stolen password never replaces the second factor."""
    state = session_state(request) or {}
    now = time.time()
    if account_has_factor(account):
        return (
            state.get("acr", 0) >= account.level
            and now - state.get("factor_time", 0) <= REAUTH_WITHIN_S
        )
    return now - state.get("auth_time", 0) <= REAUTH_WITHIN_S


def session_state(request: HttpRequest) -> dict[str, Any] | None:
    state: dict[str, Any] | None = request.session.get(KEY)
    return state


def session_expired(state: dict[str, Any], now: float) -> bool:
    limits = settings.EID_SESSION_LIMITS[state["acr"]]
    return (
        now - state["last_seen"] > limits["idle"] or now - state["auth_time"] > limits["absolute"]
    )


def session_touch(request: HttpRequest, state: dict[str, Any], now: float) -> None:
    if now - state["last_seen"] >= TOUCH_EVERY_S:
        state["last_seen"] = now
        request.session.modified = True
        AccountSession.objects.filter(session_key=request.session.session_key).update(
            last_seen_at=time_to_datetime(now)
        )


def session_finish(request: HttpRequest) -> None:
    key = request.session.session_key
    AccountSession.objects.filter(session_key=key, ended_at__isnull=True).update(
        ended_at=time_to_datetime(time.time())
    )
    logout(request)


def time_to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def authenticated_account(request: HttpRequest) -> Account | None:
    """The account of the e-ID session, if there is one."""
    if session_state(request) is None or not request.user.is_authenticated:
        return None
    return Account.objects.select_related("user").filter(user_id=request.user.pk).first()
