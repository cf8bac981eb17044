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
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from motcua.core.actors import Actor
from motcua.core.errors import Conflict, ValidationFailed
from motcua.core.held import HeldFile, held_claim, held_open, held_release, held_store
from motcua.identity import forms, services
from motcua.identity.models import Account
from motcua.identity.selectors import (
    access_history,
    account_overview,
    own_name,
    session_level_words,
    sessions_of,
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
ACCESS_PAGE = 20  # lines of "who read my data" a page
# What a service may refuse on a form, shown beside the fields; NotFound and PermissionDenied
# go to DomainErrorMiddleware's page.
REFUSALS = (ValidationFailed, services.LoginRefused, services.TooManyAttempts, Conflict)


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
        except REFUSALS as error:
            form.add_service_errors(error)
        else:
            session_begin(request, account, acr=1, full_name=own_name(account))
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
        except REFUSALS as error:  # beside the code, whatever the refusal
            form.add_service_errors(ValidationFailed({"code": error.message}))
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


PORTRAIT_HELD_FIELD = "portrait_token"


def register_view(request: HttpRequest) -> HttpResponse:
    """Level 1. Every field's problem in one pass; a good portrait is held on the server while
    the form comes back for other reasons, so it is not chosen again (the password is: it is
    never sent back, and the form says so)."""
    held = (
        held_claim(request.session, request.POST.get(PORTRAIT_HELD_FIELD, ""))
        if request.POST
        else None
    )
    form = forms.RegisterForm(request.POST or None, request.FILES or None, held=held)
    if request.method == "POST":
        valid = form.is_valid()
        held = _hold_portrait(request, form, held)  # a good new portrait waits on the server
        if valid:
            data = form.cleaned_data
            try:
                services.account_register(
                    registration=services.Registration(
                        pin=data["pin"],
                        full_name=data["full_name"],
                        birth_date=data["birth_date"].isoformat(),
                        password=data["password"],
                        portrait=held_open(held) if held else None,
                    ),
                    client=request_client(request),
                )
            except REFUSALS as error:
                form.add_service_errors(error)
                if "portrait" in form.errors and held:
                    held_release(request.session, held.token)
                    held = None
            else:
                if held:
                    held_release(request.session, held.token)
                return redirect(
                    f"{reverse('identity:register_confirm')}?{urlencode({'pin': data['pin']})}"
                )
    return render(
        request,
        "identity/register.html",
        {"form": form, "held": held, "token_name": PORTRAIT_HELD_FIELD},
    )


def _hold_portrait(
    request: HttpRequest, form: forms.RegisterForm, held: HeldFile | None
) -> HeldFile | None:
    """The portrait sent with a form that comes back, held if it was good (else dropped); the
    one held before stays held unless a new one replaces it."""
    upload = request.FILES.get("portrait")
    checked = getattr(form, "checked", None)
    if upload is None or checked is None or "portrait" in form.errors:
        return held if upload is None and "portrait" not in form.errors else None
    if held:
        held_release(request.session, held.token)
    upload.seek(0)
    return held_store(request.session, upload, checked)


def register_confirm_view(request: HttpRequest) -> HttpResponse:
    """The one answer to every registration, then the code from the contact on record."""
    form = forms.ConfirmForm(request.POST or None, initial={"pin": request.GET.get("pin", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.account_confirm_contact(
                pin=form.cleaned_data["pin"], code=form.cleaned_data["code"]
            )
        except REFUSALS as error:
            form.add_service_errors(error)
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
        except REFUSALS as error:
            form.add_service_errors(error)
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
        except REFUSALS as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Đã đặt mật khẩu mới. Hãy đăng nhập bằng mật khẩu mới."))
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
    return _account_page(request, account, forms.ChildForm())


def _account_page(
    request: HttpRequest, account: Account, child_form: forms.ChildForm, status: int = 200
) -> HttpResponse:
    overview = account_overview(account=account, session_key=request.session.session_key)
    state = session_state(request) or {}
    return render(
        request,
        "identity/account.html",
        {
            "o": overview,
            "child_form": child_form,
            "eid": state,
            "session_level": session_level_words(int(state.get("acr", 1))),
        },
        status=status,
    )


def sessions_view(request: HttpRequest) -> HttpResponse:
    """The browsers signed in to the account, this one marked, each with its end button."""
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    sessions = sessions_of(account, request.session.session_key)
    return render(request, "identity/sessions.html", {"sessions": sessions})


def access_view(request: HttpRequest) -> HttpResponse:
    """Who read my data: one line per look, newest first, a page at a time."""
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    filtering = any(request.GET.get(k) for k in ("since_0", "until_0", "reader"))
    form = forms.AccessFilterForm(request.GET if filtering else None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        zone = timezone.get_current_timezone()
        if data["since"]:
            filters["since"] = datetime.combine(data["since"], day_time.min, zone)
        if data["until"]:
            filters["until"] = datetime.combine(data["until"], day_time.max, zone)
        filters["reader"] = data["reader"] or ""
    lines = access_history(account=account, **filters) if not form.errors else []
    page = Paginator(lines, ACCESS_PAGE).get_page(request.GET.get("trang"))
    query = request.GET.copy()
    query.pop("trang", None)
    return render(
        request,
        "identity/access.html",
        {
            "form": form,
            "rows": page.object_list,
            "page": page,
            "filtering": filtering,
            "query": query.urlencode(),
        },
    )


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
        except REFUSALS as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Đã thêm ứng dụng xác thực."))
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
        except REFUSALS as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Đã đổi mật khẩu."))
            return redirect("identity:account")
    return render(request, "identity/password.html", {"form": form})


@require_POST
def consent_withdraw_view(request: HttpRequest, consent_id: int) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    services.consent_withdraw(account=account, consent_id=consent_id)
    messages.success(request, _("Đã rút lại sự đồng ý."))
    return redirect("identity:account")


@require_POST
def session_end_view(request: HttpRequest, session_id: int) -> HttpResponse:
    account = _account_or_login(request)
    if isinstance(account, HttpResponse):
        return account
    services.session_end(account=account, session_id=session_id)
    messages.success(request, _("Đã đăng xuất phiên đó."))
    return redirect("identity:sessions")


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
                birth_date=data["birth_date"].isoformat(),
            )
        except REFUSALS as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Đã thêm tài khoản của con."))
            return redirect("identity:account")
    return _account_page(request, account, form, status=422)


# --- officials -------------------------------------------------------------------------------


@permission_required(services.RAISE_PERMISSION, login_url="admin:login")
def raise_level_view(request: HttpRequest) -> HttpResponse:
    """A police official records the in-person check that raises an account to level 2."""
    form = forms.RaiseLevelForm(
        request.POST or None,
        initial={"checked_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
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
        except REFUSALS as error:
            form.add_service_errors(error)
        else:  # a fresh form for the next person
            form = forms.RaiseLevelForm(initial={"checked_at": timezone.localtime()})
    return render(request, "identity/raise_level.html", {"form": form, "done": done})


def disown_view(request: HttpRequest, token: str) -> HttpResponse:
    """ "This was not me", from the notice of a factor change: a page to confirm (so that a mail
    scanner opening the link locks nothing), then the account is suspended."""
    if request.method != "POST":
        return render(request, "identity/disown.html", {"token": token})
    services.factor_change_disowned(token=token)  # NotFound: the error page says the link is bad
    session_finish(request)
    return render(request, "identity/disowned.html")
