"""Writes of the e-ID, one module a topic: accounts, login, factors, sessions, consent and
parties. Each write is one durable transaction with its audit row; messages go out after
commit. The public names are re-exported here, so callers say `services.login_check`."""

from __future__ import annotations

from motcua.identity.services._shared import (
    CODE_ATTEMPTS,
    CODE_TTL,
    MIN_LEVEL2_AGE_WITHOUT_CARD,
    MIN_SELF_REGISTRATION_AGE,
    RAISE_PERMISSION,
    Client,
    LoginRefused,
)
from motcua.identity.services.accounts import (
    InPersonCheck,
    Registration,
    account_confirm_contact,
    account_create,
    account_raise_level,
    account_register,
    child_account_add,
    password_change,
    password_reset_begin,
    password_reset_finish,
)
from motcua.identity.services.consent import consent_grant, consent_withdraw
from motcua.identity.services.factors import (
    account_has_factor,
    factor_change_disowned,
    factor_changed,
    totp_enroll_begin,
    totp_enroll_confirm,
    totp_pending,
    totp_reset,
    totp_secret,
)
from motcua.identity.services.login import login_check, login_factor_passed, login_second_factor
from motcua.identity.services.parties import (
    MANAGE_PERMISSION,
    OIDC_SCOPES_FOR_PARTIES,
    PORTAL_CLIENT_ID,
    Credentials,
    NewParty,
    partner_add,
    partner_secret_reset,
    portal_client_ensure,
    portal_secret,
    rp_add,
)
from motcua.identity.services.sessions import session_end, session_record, sessions_end_all

__all__ = [
    "CODE_ATTEMPTS",
    "CODE_TTL",
    "MANAGE_PERMISSION",
    "MIN_LEVEL2_AGE_WITHOUT_CARD",
    "MIN_SELF_REGISTRATION_AGE",
    "OIDC_SCOPES_FOR_PARTIES",
    "PORTAL_CLIENT_ID",
    "RAISE_PERMISSION",
    "Client",
    "Credentials",
    "InPersonCheck",
    "LoginRefused",
    "NewParty",
    "Registration",
    "account_confirm_contact",
    "account_create",
    "account_has_factor",
    "account_raise_level",
    "account_register",
    "child_account_add",
    "consent_grant",
    "consent_withdraw",
    "factor_change_disowned",
    "factor_changed",
    "login_check",
    "login_factor_passed",
    "login_second_factor",
    "partner_add",
    "partner_secret_reset",
    "password_change",
    "password_reset_begin",
    "password_reset_finish",
    "portal_client_ensure",
    "portal_secret",
    "rp_add",
    "session_end",
    "session_record",
    "sessions_end_all",
    "totp_enroll_begin",
    "totp_enroll_confirm",
    "totp_pending",
    "totp_reset",
    "totp_secret",
]
