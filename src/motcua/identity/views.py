"""The e-ID pages: sign-in (password, then a second factor when a level-2 session is needed),
registration, password reset, the authorization endpoint with consent and step-up, and the
person's own pages. Thin: parsing and rendering around services and selectors."""

from __future__ import annotations

from datetime import datetime
from datetime import time as day_time
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from motcua.core.actors import Actor
from motcua.core.errors import DomainError
from motcua.core.forms import errors_onto
from motcua.identity import forms, services
from motcua.identity.models import Account
from motcua.identity.selectors import (
    access_history,
    account_overview,
)
from motcua.identity.sessions import (
    authenticated_account,
    factor_change_allowed,
    request_client,
    session_begin,
    session_finish,
    session_state,
)

PENDING = "eid_pending"  # the account that passed the password step, awaiting its second factor


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("identity:account")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("identity:account")


def with_next(name: str, next_url: str, **extra: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url, **extra})}"


# --- sign-in ---------------------------------------------------------------------------------


def login_view(request: HttpRequest) -> HttpResponse:
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.login_check(
                pin=form.cleaned_data["pin"],
                password=form.cleaned_data["password"],
                client=request_client(request),
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            session_begin(request, account, acr=1)
            return redirect(_next_url(request))
    return render(request, "identity/login.html", {"form": form, "next": _next_url(request)})


def second_factor_view(request: HttpRequest) -> HttpResponse:
    """Step-up: an account already signed in with its password proves the second factor."""
    account = authenticated_account(request)
    if account is None:
        return redirect_to_login(request.get_full_path(), reverse("identity:login"))
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            level = services.login_second_factor(
                account=account, code=form.cleaned_data["code"], client=request_client(request)
            )
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            session_begin(request, account, acr=level, factor=True)
            return redirect(_next_url(request))
    return render(
        request, "identity/second_factor.html", {"form": form, "next": _next_url(request)}
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_finish(request)
    return redirect("identity:login")


# --- registration and reset ------------------------------------------------------------------


def register_view(request: HttpRequest) -> HttpResponse:
    form = forms.RegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_register(
                registration=services.Registration(
                    pin=data["pin"],
                    full_name=data["full_name"],
                    birth_date=data["birth_date"],
                    password=data["password"],
                    portrait=data["portrait"],
                ),
                client=request_client(request),
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect(
                f"{reverse('identity:register_confirm')}?{urlencode({'pin': data['pin']})}"
            )
    return render(request, "identity/register.html", {"form": form})


def register_confirm_view(request: HttpRequest) -> HttpResponse:
    """The one answer to every registration, then the code from the contact on record."""
    form = forms.ConfirmForm(request.POST or None, initial={"pin": request.GET.get("pin", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.account_confirm_contact(
                pin=form.cleaned_data["pin"], code=form.cleaned_data["code"]
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return render(request, "identity/registered.html")
    return render(
        request,
        "identity/register_confirm.html",
        {"form": form, "sent": services.REGISTRATION_SENT},
    )


def reset_begin_view(request: HttpRequest) -> HttpResponse:
    form = forms.ResetBeginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_begin(
                pin=form.cleaned_data["pin"],
                contact=form.cleaned_data["contact"],
                client=request_client(request),
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect(
                f"{reverse('identity:reset_finish')}?{urlencode({'pin': form.cleaned_data['pin']})}"
            )
    return render(request, "identity/reset_begin.html", {"form": form})


def reset_finish_view(request: HttpRequest) -> HttpResponse:
    form = forms.ResetFinishForm(request.POST or None, initial={"pin": request.GET.get("pin", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.password_reset_finish(
                pin=data["pin"],
                code=data["code"],
                password=data["password"],
                totp_code=data["totp_code"],
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect("identity:login")
    return render(request, "identity/reset_finish.html", {"form": form})


# --- the person's own pages ------------------------------------------------------------------


def _account_or_login(request: HttpRequest) -> Account | HttpResponse:
    account = authenticated_account(request)
    if account is None:
        return redirect_to_login(request.get_full_path(), reverse("identity:login"))
    return account


def account_view(request: HttpRequest) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    overview = account_overview(account=account, session_key=request.session.session_key)
    return render(
        request,
        "identity/account.html",
        {"o": overview, "child_form": forms.ChildForm(), "eid": session_state(request)},
    )


def access_view(request: HttpRequest) -> HttpResponse:
    """Who read my data."""
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    form = forms.AccessFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        zone = timezone.get_current_timezone()
        if data["since"]:
            filters["since"] = datetime.combine(data["since"], day_time.min, zone)
        if data["until"]:
            filters["until"] = datetime.combine(data["until"], day_time.max, zone)
        filters["reader"] = data["reader"] or ""
    rows = access_history(account=account, **filters)
    return render(request, "identity/access.html", {"form": form, "rows": rows})


def factor_change_gate(request: HttpRequest, account: Account) -> HttpResponse | None:
    """Where to prove who you are before a factor changes: the existing factor if there is one,
    else the password; None once that was done in the last few minutes."""
    if factor_change_allowed(request, account):
        return None
    if services.account_has_factor(account):
        return redirect(with_next("identity:second_factor", request.get_full_path(), reauth="1"))
    return redirect(with_next("identity:login", request.get_full_path(), reauth="1"))


def totp_view(request: HttpRequest) -> HttpResponse:
    """Add or replace the authenticator app: only right after proving the existing factor (the
    old one stays until the new one is confirmed)."""
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    gate = factor_change_gate(request, account)
    if gate is not None:
        return gate
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_enroll_confirm(account=account, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            return redirect("identity:account")
    device = services.totp_pending(account)
    return render(
        request,
        "identity/totp.html",
        {"form": form, "secret": services.totp_secret(device), "qr": _qr_svg(device.config_url)},
    )


def _qr_svg(text: str) -> str:
    buffer = BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue().decode()


def password_view(request: HttpRequest) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    gate = factor_change_gate(request, account)  # the password is a factor like the others
    if gate is not None:
        return gate
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                account=account, current=form.cleaned_data["current"], new=form.cleaned_data["new"]
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect("identity:account")
    return render(request, "identity/password.html", {"form": form})


@require_POST
def consent_withdraw_view(request: HttpRequest, consent_id: int) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    services.consent_withdraw(account=account, consent_id=consent_id)
    return redirect("identity:account")


@require_POST
def session_end_view(request: HttpRequest, session_id: int) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    services.session_end(account=account, session_id=session_id)
    return redirect("identity:account")


@require_POST
def sessions_end_all_view(request: HttpRequest) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    services.sessions_end_all(account=account)
    return redirect("identity:login")


@require_POST
def child_add_view(request: HttpRequest) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    form = forms.ChildForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.child_account_add(
                parent=account,
                child_pin=data["child_pin"],
                full_name=data["full_name"],
                birth_date=data["birth_date"],
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect("identity:account")
    overview = account_overview(account=account, session_key=request.session.session_key)
    return render(
        request,
        "identity/account.html",
        {"o": overview, "child_form": form, "eid": session_state(request)},
        status=422,
    )


# --- officials -------------------------------------------------------------------------------


@permission_required(services.RAISE_PERMISSION, login_url="admin:login")
def raise_level_view(request: HttpRequest) -> HttpResponse:
    """A police official records the in-person check that raises an account to level 2."""
    form = forms.RaiseLevelForm(request.POST or None)
    done = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = services.account_raise_level(
                actor=Actor.from_user(request.user),
                check=services.InPersonCheck(
                    pin=data["pin"],
                    place=data["place"],
                    card_number=data["card_number"],
                    checked_at=data["checked_at"],
                ),
            )
        except DomainError as error:
            errors_onto(form, error)
    return render(request, "identity/raise_level.html", {"form": form, "done": done})


def disown_view(request: HttpRequest, token: str) -> HttpResponse:
    """ "This was not me", from the notice of a factor change: a page to confirm (so that a mail
    scanner opening the link locks nothing), then the account is suspended."""
    if request.method != "POST":
        return render(request, "identity/disown.html", {"token": token})
    try:
        services.factor_change_disowned(token=token)
    except DomainError as error:
        return render(request, "identity/disown.html", {"error": error.message}, status=404)
    session_finish(request)
    return render(request, "identity/disowned.html")
