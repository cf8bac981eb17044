"""Passkeys (WebAuthn) as a second factor beside the authenticator app, for citizens (the e-ID)
and officials (any Django user). The credential model, the WebAuthn helper and the browser
script are django-otp-webauthn's; its own views are not mounted, ours hold our rules:

- adding or removing a passkey is a factor change: a citizen first proves an existing factor
  (or, with none yet, the password) in the last few minutes (`factor_change_allowed`); an
  official needs a session verified with a second factor (`request.user.is_verified()`);
- a passkey never signs anyone in on its own (passwordless sign-in is off): the assertion
  endpoints serve a person already past the password, and only with one of that person's own
  credentials, against a challenge that is used once;
- passing a passkey at the e-ID's second-factor step raises the session like the TOTP step.

The back office reuses the assertion endpoints by subclassing them (`get_user` for its pending
official, `passed` for its own sign-in)."""

from __future__ import annotations

import time
from logging import getLogger
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.i18n import JavaScriptCatalog
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions
from django_otp_webauthn.views import BaseWebAuthnView

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import DomainError
from motcua.identity import services
from motcua.identity.models import Account
from motcua.identity.sessions import (
    authenticated_account,
    factor_change_allowed,
    request_client,
    session_begin,
)
from motcua.identity.views import factor_change_gate

REGISTER_STATE = "passkey_register_state"
AUTH_STATE = "passkey_auth_state"
LOGGER = getLogger("motcua.identity.passkeys")


# --- the relying party -----------------------------------------------------------------------


def rp_id(request: HttpRequest | None = None) -> str:
    """The relying party id: the host of PUBLIC_URL (a passkey is bound to it for good)."""
    return urlsplit(settings.PUBLIC_URL).hostname or "localhost"


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper with the relying party taken from PUBLIC_URL when asked
    (tests move it to their live server) and a readable name for each new passkey."""

    def get_relying_party_domain(self) -> str:
        return rp_id(self.request)

    def get_allowed_origins(self) -> list[str]:
        return [settings.PUBLIC_URL]

    def create_credential(self, user: AbstractBaseUser, *args: Any, **kwargs: Any) -> Any:
        device = super().create_credential(user, *args, **kwargs)
        device.name = _("Khoá truy cập %(date)s") % {
            "date": date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
        }
        return device


def _helper(request: HttpRequest) -> PasskeyHelper:
    return PasskeyHelper(request=request)


# --- who may change factors ------------------------------------------------------------------


class FactorChangeRefused(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "reauthentication_required"
    default_detail = gettext_lazy("Hãy xác thực lại bằng yếu tố hiện có trước")


class NoPasskey(exceptions.OTPWebAuthnApiError):
    status_code = 404
    default_code = "no_passkey"
    default_detail = gettext_lazy("Tài khoản chưa có khoá truy cập")


class Refused(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "refused"


def _otp_verified(request: HttpRequest) -> bool:
    """A session verified with a second factor (django-otp's middleware says)."""
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def _is_citizen(user: Any) -> bool:
    return bool(Account.objects.filter(user_id=user.pk).exists())


def change_allowed(request: HttpRequest) -> bool:
    """May the signed-in person add or remove a passkey now? A citizen: the e-ID's rule (a fresh
    proof of an existing factor). Anyone else (an official): a second-factor verified session.
    A citizen's user signed in without an e-ID session may not."""
    if not request.user.is_authenticated:
        return False
    account = authenticated_account(request)
    if account is not None:
        return factor_change_allowed(request, account)
    return not _is_citizen(request.user) and _otp_verified(request)


def _factor_changed(request: HttpRequest, change: str) -> None:
    """Audit (and for a citizen announce) a passkey change, in the caller's transaction."""
    account = authenticated_account(request)
    if account is not None:
        services.factor_changed(
            account=account,
            change=change,
            by=Actor(kind="citizen", ref=account.pin, pin=account.pin),
        )
    else:
        audit_record(
            actor=Actor.from_user(request.user),
            action=f"factor.{change}",
            object_type="auth.user",
            object_id=str(request.user.pk),
        )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _body(request: HttpRequest) -> Any:
    """The JSON body, as the package's base view parsed it."""
    return getattr(request, "data", {})


def _pop_state(request: HttpRequest, key: str) -> dict[str, Any]:
    """The ceremony's state, taken out of the session before anything is checked, so that a
    challenge serves once whatever happens next."""
    state = request.session.pop(key, None)
    request.session.save()
    if not isinstance(state, dict):
        raise exceptions.InvalidState()
    return state


# --- registration (JSON, for the package's script) -------------------------------------------


@method_decorator(never_cache, name="dispatch")
class RegistrationBegin(BaseWebAuthnView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        if not change_allowed(request):
            raise FactorChangeRefused()
        options, state = _helper(request).register_begin(user=request.user)
        request.session[REGISTER_STATE] = {**state, "user": request.user.pk}
        return JsonResponse(options)


@method_decorator(never_cache, name="dispatch")
class RegistrationComplete(BaseWebAuthnView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        state = _pop_state(request, REGISTER_STATE)
        if not change_allowed(request):
            raise FactorChangeRefused()
        if state.get("user") != request.user.pk:
            raise exceptions.InvalidState()
        with rewrite_exceptions(logger=LOGGER), transaction.atomic(durable=True):
            device = _helper(request).register_complete(
                user=request.user, state=state, data=_body(request)
            )
            _factor_changed(request, "passkey_added")
        return JsonResponse({"id": device.pk})


# --- assertion: the second factor at sign-in (JSON, for the package's script) ----------------


@method_decorator(never_cache, name="dispatch")
class AuthenticationBegin(BaseWebAuthnView):
    """Options for the signed-in person's own passkeys (never an empty list, which would let
    the browser offer anyone's passkey)."""

    http_method_names = ["post"]

    def get_user(self) -> Any:
        user = self.request.user
        return user if user.is_authenticated and user.is_active else None

    def post(self, request: HttpRequest) -> JsonResponse:
        user = self.get_user()
        if user is None:
            raise exceptions.NotAuthenticated()
        if not WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).exists():
            raise NoPasskey()
        options, state = _helper(request).authenticate_begin(
            user=user, require_user_verification=False
        )
        request.session[AUTH_STATE] = {**state, "user": user.pk}
        return JsonResponse(options)


@method_decorator(never_cache, name="dispatch")
class AuthenticationComplete(AuthenticationBegin):
    """Checks the assertion against the challenge of this session (used once), with one of
    this person's own confirmed credentials; then `passed` raises the session."""

    def post(self, request: HttpRequest) -> JsonResponse:
        user = self.get_user()
        state = _pop_state(request, AUTH_STATE)
        if user is None:
            raise exceptions.NotAuthenticated()
        if state.get("user") != user.pk:
            raise exceptions.InvalidState()
        with rewrite_exceptions(logger=LOGGER):
            device = _helper(request).authenticate_complete(
                user=user, state=state, data=_body(request)
            )
        if not device.confirmed or device.user_id != user.pk:
            raise exceptions.CredentialDisabled()
        return JsonResponse({"id": device.pk, "redirect_url": self.passed(user, device)})

    def passed(self, user: Any, device: Any) -> str:
        """The person proved the passkey: a citizen's e-ID session reaches the account's level
        (recorded like the TOTP step); an official's session is marked verified. Returns where
        to go next."""
        request = self.request
        account = authenticated_account(request)
        if account is not None:
            try:
                level = services.login_factor_passed(
                    account=account, client=request_client(request), method="passkey"
                )
            except DomainError as error:
                raise Refused(detail=error.message) from None
            session_begin(request, account, acr=level, factor=True)
            otp_login(request, device)
            return _safe_next(request, reverse("identity:account"))
        request.session.cycle_key()
        otp_login(request, device)
        return _safe_next(request, "/")


class StaffAuthenticationBegin(AuthenticationBegin):
    """The same assertion for an official between the password and the second step of the back
    office: the user is the one the password step left pending in the session (under
    `pending_key`, for `pending_seconds`), not yet signed in. Configured by the URL conf."""

    pending_key = ""
    pending_seconds = 300
    seen_key = ""
    start_url = "/"

    def pending(self) -> dict[str, Any] | None:
        pending = self.request.session.get(self.pending_key)
        if (
            not isinstance(pending, dict)
            or time.time() - pending.get("at", 0) > self.pending_seconds
        ):
            return None
        return pending

    def get_user(self) -> Any:
        pending = self.pending()
        if pending is None or not isinstance(pending.get("user"), int):
            return None
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
        return user if user is not None and user.is_staff else None


class StaffAuthenticationComplete(StaffAuthenticationBegin, AuthenticationComplete):
    def passed(self, user: Any, device: Any) -> str:
        """Signed in under a new session id, verified by the passkey, as after a TOTP code."""
        request = self.request
        pending = request.session.pop(self.pending_key)
        login(request, user, backend=pending.get("backend") or None)
        otp_login(request, device)
        request.session[self.seen_key] = time.time()
        target = pending.get("next") or ""
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return str(target)
        return self.start_url


passkey_register_begin = RegistrationBegin.as_view()
passkey_register_complete = RegistrationComplete.as_view()
passkey_auth_begin = AuthenticationBegin.as_view()
passkey_auth_complete = AuthenticationComplete.as_view()
passkey_jsi18n = JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])


# --- pages -----------------------------------------------------------------------------------


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("identity:login"))
    if _is_citizen(request.user) and authenticated_account(request) is None:
        return redirect_to_login(request.get_full_path(), reverse("identity:login"))
    return None


def _change_gate(request: HttpRequest) -> HttpResponse | None:
    """Where to prove who you are before a passkey is added or removed; None when allowed."""
    account = authenticated_account(request)
    if account is not None:
        return factor_change_gate(request, account)
    if change_allowed(request):
        return None
    return render(request, "identity/passkey_refused.html", status=403)


def _passkeys_of(user: Any) -> list[Any]:
    return list(
        WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).order_by("created_at")
    )


def passkeys_view(request: HttpRequest) -> HttpResponse:
    """The person's passkeys, with links to add and remove."""
    refused = _signed_in(request)
    if refused is not None:
        return refused
    return render(request, "identity/passkeys.html", {"passkeys": _passkeys_of(request.user)})


def passkey_add_view(request: HttpRequest) -> HttpResponse:
    """The page whose button creates a passkey (the package's script): only right after
    proving the existing factor."""
    refused = _signed_in(request) or _change_gate(request)
    if refused is not None:
        return refused
    return render(request, "identity/passkey_add.html")


def passkey_remove_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """Confirm, then remove one of the person's passkeys; never the last second factor."""
    refused = _signed_in(request) or _change_gate(request)
    if refused is not None:
        return refused
    device = WebAuthnCredential.objects.filter(pk=device_id, user_id=request.user.pk).first()
    if device is None:
        return render(request, "identity/passkey_refused.html", {"missing": True}, status=404)
    error = ""
    if request.method == "POST":
        with transaction.atomic(durable=True):
            locked = (
                WebAuthnCredential.objects.select_for_update()
                .filter(pk=device_id, user_id=request.user.pk)
                .first()
            )
            others = [
                d
                for d in devices_for_user(request.user, confirmed=True)
                if d.persistent_id != device.persistent_id
            ]
            if locked is not None and others:
                locked.delete()
                _factor_changed(request, "passkey_removed")
        if locked is None or others:
            return redirect("identity:passkeys")
        error = _("Đây là yếu tố xác thực duy nhất của bạn: hãy thêm yếu tố khác trước khi xoá")
    return render(
        request,
        "identity/passkey_remove.html",
        {"device": device, "error": error},
        status=422 if error else 200,
    )
