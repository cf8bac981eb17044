"""The back office: officials sign in, open their agency's queue, work a dossier step by step,
issue the apology slip for a late one, download its papers. Thin: parsing and rendering around
the dossiers' services and selectors, which check who may do what and log every read."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login

from motcua.catalog import selectors as catalog
from motcua.core.actors import Actor
from motcua.core.clients import client_ip
from motcua.core.errors import DomainError, NotFound
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services
from motcua.identity import services as identity
from motcua.web.citizen import file_response, paper_response
from motcua.web.forms import ApologyForm, StepForm

View = Callable[..., HttpResponseBase]
PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50


# --- signing in ---------------------------------------------------------------------------------

# The sign-in in two steps: the password, then a code of the official's authenticator. Between the
# two, the session holds who passed the first step (not signed in yet), for a few minutes.
PENDING_KEY = "backoffice_pending"
PENDING_SECONDS = 300
PENDING_TRIES = 5
# When the official last did something in the back office or the admin (epoch seconds).
SEEN_KEY = "staff_seen"
TOUCH_EVERY_S = 60  # write it at most once a minute, not on every request

INVALID_LOGIN = "Sai tên đăng nhập hoặc mật khẩu / wrong username or password"
NO_FACTOR = (
    "Tài khoản chưa có ứng dụng xác thực; đề nghị quản trị hệ thống cấp / this account has no "
    "authenticator yet: ask the administrator for one"
)
WRONG_CODE = "Mã xác thực không đúng hoặc đã hết hạn / wrong or expired code"
START_AGAIN = "Hãy đăng nhập lại / please sign in again"
IDLE = (
    "Phiên làm việc đã kết thúc sau thời gian không hoạt động; hãy đăng nhập lại / "
    "signed out after a while without activity: please sign in again"
)


def second_factor_verified(user: Any) -> bool:
    """Whether the session passed a second factor: any confirmed django-otp device (an
    authenticator app, a passkey) that verified it, as django-otp's middleware says."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def is_official(user: AbstractBaseUser | AnonymousUser) -> bool:
    """An active staff user whose session passed the second factor."""
    return bool(
        user.is_authenticated
        and user.is_active
        and getattr(user, "is_staff", False)
        and second_factor_verified(user)
    )


def staff_session_alive(request: HttpRequest) -> bool:
    """False, after ending the session, when the official did nothing for STAFF_IDLE_SECONDS;
    else notes that they are here (at most once a minute)."""
    now = time.time()
    seen = request.session.get(SEEN_KEY)
    if isinstance(seen, int | float) and now - seen > settings.STAFF_IDLE_SECONDS:
        logout(request)
        return False
    if not isinstance(seen, int | float) or now - seen >= TOUCH_EVERY_S:
        request.session[SEEN_KEY] = now
    return True


class OfficialAuthenticationForm(AuthenticationForm):
    """Django's username and password form, for active staff users only. Every failure gets the
    same answer: a citizen's right password says no more than a wrong one."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": INVALID_LOGIN,
        "inactive": INVALID_LOGIN,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Tên đăng nhập / Username"
        self.fields["password"].label = "Mật khẩu / Password"

    def confirm_login_allowed(self, user: User) -> None:
        if not (user.is_active and getattr(user, "is_staff", False)):
            raise self.get_invalid_login_error()


class LoginView(auth_views.LoginView):
    """The first step: the password (checked by `authenticate`, with the request, so that the
    shared throttle sees it). It signs nobody in: it sends the official to the second step."""

    template_name = "backoffice/login.html"
    authentication_form = OfficialAuthenticationForm
    next_page = "backoffice:start"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not user_has_device(user, confirmed=True):
            form.add_error(None, NO_FACTOR)
            return self.form_invalid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": getattr(user, "backend", ""),
            "at": time.time(),
            "tries": 0,
            "next": self.get_success_url(),
        }
        return redirect("backoffice:login_code")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Mã xác thực (6 chữ số) / Code from your authenticator (6 digits)",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    return (user, pending) if user is not None else None


def device_accepting(user: User, code: str) -> Any:
    """The user's confirmed device that accepts the code, if any (each device applies its own
    throttle to failed codes)."""
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            verify = getattr(device, "verify_token", None)
            if verify is not None and verify(code):
                return device
    return None


@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    """The second step: a code of the authenticator; then the official is signed in, under a
    new session id, with the device that verified them."""
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, START_AGAIN)
        return redirect("backoffice:login")
    user, pending = found
    form = CodeForm(request.POST or None)
    client = identity.Client(
        ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )
    if request.method == "POST" and not identity.password_attempt_allowed(
        username=user.get_username(), client=client
    ):
        form.add_error(None, INVALID_LOGIN)  # the one throttle of every password and code
    elif request.method == "POST" and form.is_valid():
        device = device_accepting(user, form.cleaned_data["code"].strip())
        if device is not None:
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"] or None)
            otp_login(request, device)
            request.session[SEEN_KEY] = time.time()
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = reverse("backoffice:start")
            return redirect(target)
        identity.staff_attempt_recorded(username=user.get_username(), client=client, success=False)
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= PENDING_TRIES:
            del request.session[PENDING_KEY]
            messages.error(request, f"{WRONG_CODE}. {START_AGAIN}")
            return redirect("backoffice:login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", WRONG_CODE)
    status = 422 if request.method == "POST" else 200
    return render(request, "backoffice/login_code.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "Đã đăng xuất / signed out")
    return redirect("backoffice:login")


def official_required(view: View) -> View:
    """Active staff users who passed the second factor, in a session not left idle too long;
    anyone else goes to the back office's sign-in page. The view gets the official as an
    Actor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if is_official(request.user) and not staff_session_alive(request):
            messages.info(request, IDLE)
        if not is_official(request.user):
            return auth_views.redirect_to_login(
                request.get_full_path(), login_url="backoffice:login"
            )
        return view(request, Actor.from_user(request.user), *args, **kwargs)

    return wrapped


# --- the official's agencies --------------------------------------------------------------------


@official_required
def start_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    agencies = dossiers.agencies_served(actor)
    if len(agencies) == 1:
        return redirect("backoffice:queue", agency_id=agencies[0][0])
    status = 200 if agencies else 403
    return render(request, "backoffice/start.html", {"agencies": agencies}, status=status)


# --- the queue ----------------------------------------------------------------------------------


class QueueForm(forms.Form):
    """The queue's filters, from the query string; a bad value is dropped, not fatal."""

    status = forms.ChoiceField(
        label="Trạng thái / Status",
        choices=[("", "Tất cả / all"), *catalog.Status.choices],
        required=False,
    )
    procedure = forms.CharField(
        label="Thủ tục / Procedure", required=False, max_length=20, widget=forms.Select
    )
    q = forms.CharField(
        label="Mã hồ sơ hoặc số định danh / Receipt code or PIN",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    overdue = forms.BooleanField(label="Quá hạn / Overdue", required=False)
    due_soon = forms.BooleanField(label="Sắp đến hạn / Due soon", required=False)
    size = forms.TypedChoiceField(
        label="Số dòng / Rows",
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def chosen(self) -> tuple[dossiers.QueueFilter, int, int]:
        """The filter, the page and the page size asked for, ignoring whatever was invalid."""
        data = self.cleaned_data if self.is_bound else {}
        chosen = dossiers.QueueFilter(
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
            due_soon=bool(data.get("due_soon")),
            procedure=data.get("procedure") or "",
            query=data.get("q") or "",
        )
        return chosen, data.get("page") or 1, data.get("size") or DEFAULT_PAGE_SIZE


def _page_url(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return f"?{params.urlencode()}"


@official_required
def queue_view(request: HttpRequest, actor: Actor, agency_id: int) -> HttpResponse:
    form = QueueForm(request.GET)
    form.is_valid()
    chosen, page_number, page_size = form.chosen()
    try:
        page = dossiers.dossier_queue(
            actor=actor, agency_id=agency_id, chosen=chosen, page=page_number, page_size=page_size
        )
    except NotFound as error:
        raise Http404(error.message) from error
    form.fields["procedure"].widget.choices = [("", "Tất cả / all"), *page.procedures]
    return render(
        request,
        "backoffice/queue.html",
        {
            "q": page,
            "form": form,
            "previous_url": _page_url(request, page.page - 1) if page.page > 1 else "",
            "next_url": _page_url(request, page.page + 1) if page.page < page.pages else "",
        },
    )


# --- one dossier --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionForm:
    """One allowed step as the page offers it; the step that was refused carries its errors."""

    transition: catalog.TransitionView
    officials: list[tuple[str, str]]
    note: str = ""
    assignee: str = ""
    errors: tuple[str, ...] = ()


def _detail(actor: Actor, dossier_id: int) -> dossiers.DossierDetail:
    try:
        return dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _value_text(prop: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return "Có / yes" if value else "Không / no"
    if "enum" in prop and "x-enum-titles" in prop and value in prop["enum"]:
        return str(prop["x-enum-titles"][prop["enum"].index(value)])
    if prop.get("format") == "date":
        with contextlib.suppress(ValueError):
            return f"{date.fromisoformat(str(value)):%d/%m/%Y}"
    return str(value)


def declaration_rows(detail: dossiers.DossierDetail) -> list[tuple[str, str]]:
    """The declaration in the form's order, each answer under the form's title."""
    properties = dict(detail.procedure.form_fields)
    names = [n for n in properties if n in detail.declaration]
    names += [n for n in detail.declaration if n not in properties]
    return [
        (
            properties.get(name, {}).get("title", name),
            _value_text(properties.get(name, {}), detail.declaration[name]),
        )
        for name in names
    ]


@dataclass(frozen=True)
class PaperRow:
    name: str
    required: bool
    held_by: str  # who holds it, in words; "" when the citizen uploaded it (or nobody did)
    form: bool  # the declaration itself, filled online
    files: list[dossiers.FileView]


def paper_rows(detail: dossiers.DossierDetail) -> list[PaperRow]:
    labels = catalog.source_labels()
    rows = []
    codes = set()
    for need in detail.papers:
        component = need.component
        codes.add(component.code)
        rows.append(
            PaperRow(
                name=" / ".join(n for n in (component.name, component.name_en) if n),
                required=component.required,
                held_by=labels.get(need.held_by, need.held_by) if need.held_by else "",
                form=not component.is_paper,
                files=[f for f in detail.files if f.component == component.code],
            )
        )
    others = [f for f in detail.files if f.component not in codes]
    if others:
        rows.append(PaperRow("Tệp khác / other files", False, "", False, others))
    return rows


def _action_forms(
    detail: dossiers.DossierDetail, refused: StepForm | None, errors: dict[str, str]
) -> list[ActionForm]:
    forms_: list[ActionForm] = []
    for transition in detail.actions:
        officials = (
            catalog.officials_of(detail.agency_id, catalog.Role.PROCESSOR)
            if transition.action == "assign"
            else []
        )
        if refused is not None and refused.data.get("action") == transition.action:
            forms_.append(
                ActionForm(
                    transition,
                    officials,
                    note=refused.data.get("note", ""),
                    assignee=refused.data.get("assignee", ""),
                    errors=tuple(errors.values()),
                )
            )
        else:
            forms_.append(ActionForm(transition, officials))
    return forms_


def _form_errors(form: forms.Form) -> dict[str, str]:
    return {field: " ".join(str(m) for m in messages_) for field, messages_ in form.errors.items()}


def _dossier_page(
    request: HttpRequest,
    actor: Actor,
    dossier_id: int,
    *,
    error: str = "",
    step: StepForm | None = None,
    step_errors: dict[str, str] | None = None,
    apology: ApologyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        detail = _detail(actor, dossier_id)
    except DomainError as refused:  # e.g. an official without the right to read the registry
        return render(
            request, "backoffice/refused.html", {"error": refused.message}, status=refused.status
        )
    if apology is None:
        apology = ApologyForm(initial={"version": detail.version})
    return render(
        request,
        "backoffice/dossier.html",
        {
            "d": detail,
            "declaration": declaration_rows(detail),
            "papers": paper_rows(detail),
            "action_forms": _action_forms(detail, step, step_errors or {}),
            "apology_form": apology,
            "error": error,
            "step_errors": step_errors or {},
        },
        status=status,
    )


@official_required
def dossier_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    return _dossier_page(request, actor, dossier_id)


@require_POST
@official_required
def step_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    form = StepForm(request.POST)
    if not form.is_valid():
        errors = _form_errors(form)
        return _dossier_page(
            request,
            actor,
            dossier_id,
            error="Dữ liệu không hợp lệ / Invalid data",
            step=form,
            step_errors=errors,
            status=422,
        )
    try:
        dossier = services.dossier_act(
            actor=actor,
            step=services.Step(
                dossier_id=dossier_id,
                action=form.cleaned_data["action"],
                version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
                assignee=form.cleaned_data["assignee"],
            ),
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        return _dossier_page(
            request,
            actor,
            dossier_id,
            error=error.message,
            step=form,
            step_errors=error.errors,
            status=error.status,
        )
    label = catalog.Status(dossier.status).label
    messages.success(
        request, f"Đã cập nhật hồ sơ {dossier.code}: {label} / the dossier was updated"
    )
    return redirect("backoffice:dossier", dossier_id=dossier_id)


@require_POST
@official_required
def apology_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    form = ApologyForm(request.POST)
    if form.is_valid():
        try:
            apology = services.dossier_apologize(
                actor=actor,
                dossier_id=dossier_id,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                new_due=form.cleaned_data["new_due"],
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            _apology_errors(form, error)
            return _dossier_page(
                request, actor, dossier_id, error=error.message, apology=form, status=error.status
            )
        messages.success(
            request,
            f"Đã lập phiếu xin lỗi, hẹn trả ngày {apology.new_due:%d/%m/%Y} / "
            "apology slip issued with a new appointment",
        )
        return redirect("backoffice:dossier", dossier_id=dossier_id)
    return _dossier_page(
        request,
        actor,
        dossier_id,
        error="Dữ liệu không hợp lệ / Invalid data",
        apology=form,
        status=422,
    )


def _apology_errors(form: ApologyForm, error: DomainError) -> None:
    """Field errors beside their fields; the rest (a stale version, an error about the dossier)
    is in the message on top of the page."""
    for field, message in error.errors.items():
        if field in form.fields and field != "version":
            form.add_error(field, message)


# --- papers -------------------------------------------------------------------------------------


@official_required
def file_view(
    request: HttpRequest, actor: Actor, dossier_id: int, file_id: int
) -> HttpResponseBase:
    return file_response(actor, dossier_id, file_id)


@official_required
def paper_view(
    request: HttpRequest,
    actor: Actor,
    dossier_id: int,
    paper: str,
    apology_id: int | None = None,
) -> HttpResponse:
    try:
        detail = _detail(actor, dossier_id)
    except DomainError as refused:
        raise DjangoPermissionDenied(refused.message) from refused
    return paper_response(detail, paper, apology_id)
