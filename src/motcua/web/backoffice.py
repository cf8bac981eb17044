"""The back office: officials sign in, open their agency's queue, work a dossier step by step,
issue the apology slip for a late one, download its papers. Thin: parsing and rendering around
the dossiers' services and selectors, which check who may do what and log every read."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import wraps
from typing import Any, Generic, Protocol, TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login

from motcua.catalog import selectors as catalog
from motcua.core.actors import Actor
from motcua.core.clients import client_ip
from motcua.core.errors import Conflict, DomainError, ValidationFailed
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

INVALID_LOGIN = gettext_lazy("Sai tên đăng nhập hoặc mật khẩu")
NO_FACTOR = gettext_lazy("Tài khoản chưa có ứng dụng xác thực; đề nghị quản trị hệ thống cấp")
WRONG_CODE = gettext_lazy("Mã xác thực không đúng hoặc đã hết hạn")
START_AGAIN = gettext_lazy("Hãy đăng nhập lại")
IDLE = gettext_lazy("Phiên làm việc đã kết thúc sau thời gian không hoạt động; hãy đăng nhập lại")


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
        self.fields["username"].label = _("Tên đăng nhập")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
        )
        self.fields["password"].label = _("Mật khẩu")
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

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
        label=gettext_lazy("Mã xác thực"),
        help_text=gettext_lazy("6 chữ số đang hiện trong ứng dụng xác thực"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
                "class": "govuk-input--width-5",
            }
        ),
        error_messages={"required": gettext_lazy("Nhập mã xác thực")},
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
            messages.error(
                request, _("%(wrong)s. %(again)s") % {"wrong": WRONG_CODE, "again": START_AGAIN}
            )
            return redirect("backoffice:login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", WRONG_CODE)
    status = 422 if request.method == "POST" else 200
    return render(request, "backoffice/login_code.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Đã đăng xuất"))
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


# --- paging and exports, once for every list ----------------------------------------------------

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Sliceable(Protocol[T_co]):
    """What page_of pages: a length, and slices that read only what they hold (a list, or a
    selector's lazy rows)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Sequence[T_co]: ...


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with where the previous and next pages are."""

    rows: list[T]
    number: int
    pages: int
    total: int
    first: int  # the 1-based position of the first row shown (0 when none)
    last: int
    previous_url: str
    next_url: str


def _page_url(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return f"?{params.urlencode()}"


def page_of(request: HttpRequest, items: Sliceable[T], per_page: int) -> Page[T]:
    """The page the query string asks for (?page=N, clamped to the pages there are) of any
    sequence whose slices read only what they hold. Every paged list uses it."""
    per_page = max(1, per_page)
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    rows = list(items[start : start + per_page]) if total else []
    return Page(
        rows=rows,
        number=number,
        pages=pages,
        total=total,
        first=start + 1 if rows else 0,
        last=start + len(rows),
        previous_url=_page_url(request, number - 1) if number > 1 else "",
        next_url=_page_url(request, number + 1) if number < pages else "",
    )


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("csv", "xlsx")
MAX_EXPORT_ROWS = 100_000


def _cell(value: Any) -> Any:
    """A cell as a spreadsheet shows it, never runs it (CSV injection): formula-like text gets a
    leading apostrophe; dates in dd/mm/yyyy."""
    if isinstance(value, datetime):
        value = f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
    elif isinstance(value, date):
        value = f"{value:%d/%m/%Y}"
    elif value is None:
        value = ""
    elif not isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_response(
    *, header: list[str], rows: Iterable[list[Any]], fmt: str, filename: str, sheet: str = ""
) -> HttpResponse:
    """The rows as a UTF-8 CSV (with the byte-order mark spreadsheets need) or an Excel file."""
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        page = book.active
        assert page is not None
        page.title = (sheet or filename)[:31]
        page.append([_cell(h) for h in header])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in rows:
            page.append([_cell(v) for v in row])
        page.freeze_panes = "A2"
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        text = io.StringIO()
        text.write("\ufeff")
        writer = csv.writer(text)
        writer.writerow([_cell(h) for h in header])
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        response = HttpResponse(text.getvalue().encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- labels -------------------------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "submit": gettext_lazy("Nộp hồ sơ"),
    "receive": gettext_lazy("Tiếp nhận"),
    "refuse": gettext_lazy("Từ chối tiếp nhận"),
    "assign": gettext_lazy("Phân công xử lý"),
    "start": gettext_lazy("Bắt đầu xử lý"),
    "request_supplement": gettext_lazy("Yêu cầu bổ sung"),
    "supplement": gettext_lazy("Bổ sung hồ sơ"),
    "approve": gettext_lazy("Phê duyệt"),
    "reject": gettext_lazy("Từ chối giải quyết"),
    "issue_result": gettext_lazy("Ban hành kết quả"),
    "return_result": gettext_lazy("Trả kết quả"),
    "withdraw": gettext_lazy("Rút hồ sơ"),
    "apologize": gettext_lazy("Lập phiếu xin lỗi"),
}
# Steps that end a dossier against the citizen, or issue its result: confirmed on a page of
# their own before they are taken.
CONFIRMED_ACTIONS = ("refuse", "reject", "approve")
WARNING_ACTIONS = ("refuse", "reject")


def action_label(action: str, name: str = "") -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    return name.split(" / ")[0] if name else action


STATUS_TAGS = {
    "submitted": "govuk-tag--blue",
    "received": "govuk-tag--light-blue",
    "assigned": "govuk-tag--light-blue",
    "processing": "govuk-tag--purple",
    "supplement_requested": "govuk-tag--yellow",
    "approved": "govuk-tag--green",
    "result_issued": "govuk-tag--green",
    "returned": "govuk-tag--grey",
    "rejected": "govuk-tag--red",
    "not_received": "govuk-tag--red",
    "withdrawn": "govuk-tag--grey",
}


# --- the official's work lists ------------------------------------------------------------------


class QueueForm(forms.Form):
    """The queue's filters, from the query string; a bad value is dropped, not fatal."""

    q = forms.CharField(
        label=gettext_lazy("Mã hồ sơ hoặc số định danh"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Trạng thái"),
        choices=[("", gettext_lazy("Tất cả")), *catalog.Status.choices],
        required=False,
    )
    procedure = forms.CharField(
        label=gettext_lazy("Thủ tục"), required=False, max_length=20, widget=forms.Select
    )
    overdue = forms.BooleanField(label=gettext_lazy("Quá hạn"), required=False)
    due_soon = forms.BooleanField(label=gettext_lazy("Sắp đến hạn"), required=False)
    size = forms.TypedChoiceField(
        label=gettext_lazy("Số dòng mỗi trang"),
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
    )

    def chosen(self) -> tuple[dossiers.QueueFilter, int]:
        """The filter and the page size asked for, ignoring whatever was invalid."""
        data = self.cleaned_data if self.is_bound else {}
        chosen = dossiers.QueueFilter(
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
            due_soon=bool(data.get("due_soon")),
            procedure=data.get("procedure") or "",
            query=data.get("q") or "",
        )
        return chosen, data.get("size") or DEFAULT_PAGE_SIZE


def _worklist(
    request: HttpRequest, actor: Actor, agency_id: int | None, *, export: bool = False
) -> tuple[QueueForm, dossiers.WorkList, int]:
    form = QueueForm(request.GET)
    form.is_valid()
    chosen, size = form.chosen()
    items = dossiers.dossier_worklist(
        actor=actor, agency_id=agency_id, mine=agency_id is None, chosen=chosen, export=export
    )
    if agency_id is None:
        del form.fields["procedure"]
    else:
        procedure = form.fields["procedure"]
        procedure.widget.choices = [("", _("Tất cả")), *items.procedures]
    return form, items, size


def _queue_page(
    request: HttpRequest, actor: Actor, agency_id: int | None, agencies: list[tuple[int, str]]
) -> HttpResponse:
    form, items, size = _worklist(request, actor, agency_id)
    page = page_of(request, items, size)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/queue.html",
        {
            "page": page,
            "form": form,
            "agencies": agencies,
            "agency_id": agency_id,
            "agency_name": dict(agencies).get(agency_id or 0, ""),
            "filtered": any(
                request.GET.get(k) for k in ("q", "status", "procedure", "overdue", "due_soon")
            ),
            "query": query.urlencode(),
            "rows": [(w, STATUS_TAGS.get(w.row.status, "")) for w in page.rows],
        },
    )


@official_required
def start_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What waits for the official: the dossiers whose next step is theirs, in all their
    agencies; each agency's whole queue one click away."""
    agencies = dossiers.agencies_served(actor)
    if not agencies:
        return render(request, "backoffice/start.html", {"agencies": agencies}, status=403)
    return _queue_page(request, actor, None, agencies)


@official_required
def queue_view(request: HttpRequest, actor: Actor, agency_id: int) -> HttpResponse:
    """Everything open at one of the official's agencies, with who acts next."""
    return _queue_page(request, actor, agency_id, dossiers.agencies_served(actor))


def _queue_export(
    request: HttpRequest, actor: Actor, agency_id: int | None, fmt: str
) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404
    _form, items, _size = _worklist(request, actor, agency_id, export=True)
    rows = items[0:MAX_EXPORT_ROWS]
    header = [
        _("Mã hồ sơ"),
        _("Thủ tục"),
        _("Người nộp"),
        _("Cơ quan"),
        _("Trạng thái"),
        _("Người xử lý tiếp theo"),
        _("Ngày nộp"),
        _("Hẹn trả"),
        _("Quá hạn"),
    ]
    table = [
        [
            w.row.code,
            w.row.procedure_name,
            w.row.applicant_name,
            w.agency_name,
            w.row.status_label,
            w.next_label,
            w.row.submitted_at,
            w.row.due_on,
            _("Có") if w.row.overdue else _("Không"),
        ]
        for w in rows
    ]
    today = timezone.localdate()
    name = f"ho-so-{agency_id}-{today:%Y%m%d}" if agency_id else f"ho-so-cho-toi-{today:%Y%m%d}"
    return table_response(header=header, rows=table, fmt=fmt, filename=name, sheet=_("Hồ sơ"))


@require_GET
@official_required
def mine_export_view(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    return _queue_export(request, actor, None, fmt)


@require_GET
@official_required
def queue_export_view(request: HttpRequest, actor: Actor, agency_id: int, fmt: str) -> HttpResponse:
    return _queue_export(request, actor, agency_id, fmt)


# --- one dossier --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionForm:
    """One allowed step as the page offers it; the step that was refused carries its errors."""

    transition: catalog.TransitionView
    label: str
    officials: list[tuple[str, str]]
    note: str = ""
    assignee: str = ""
    errors: tuple[str, ...] = ()

    @property
    def confirmed(self) -> bool:
        return self.transition.action in CONFIRMED_ACTIONS

    @property
    def warning(self) -> bool:
        return self.transition.action in WARNING_ACTIONS


def _value_text(prop: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if "enum" in prop and "x-enum-titles" in prop and value in prop["enum"]:
        return str(prop["x-enum-titles"][prop["enum"].index(value)])
    if prop.get("format") == "date":
        with contextlib.suppress(ValueError):
            return f"{date.fromisoformat(str(value)):%d/%m/%Y}"
    if isinstance(value, int) and not isinstance(value, bool) and prop.get("type") == "integer":
        return number_format(value, decimal_pos=0, force_grouping=True)
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
                name=component.name,
                required=component.required,
                held_by=labels.get(need.held_by, need.held_by) if need.held_by else "",
                form=not component.is_paper,
                files=[f for f in detail.files if f.component == component.code],
            )
        )
    others = [f for f in detail.files if f.component not in codes]
    if others:
        rows.append(PaperRow(_("Tệp khác"), False, "", False, others))
    return rows


@dataclass(frozen=True)
class EventRow:
    at: datetime
    action: str
    target: str
    actor: str
    note: str


def event_rows(detail: dossiers.DossierDetail) -> list[EventRow]:
    """The timeline in words: the step, the status it led to, and who took it by name."""
    names = dict(dossiers.officials_of_agency(detail.agency_id))
    rows = []
    for e in detail.events:
        kind, _sep, ref = e.actor.partition(":")
        if kind == "official":
            who = names.get(ref, ref)
        elif kind == "citizen":
            who = _("Công dân %(name)s") % {"name": detail.row.applicant_name}
        else:
            who = _("Hệ thống")
        rows.append(EventRow(e.at, action_label(e.action), e.target_label, who, e.note))
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
        label = action_label(transition.action, transition.name)
        if refused is not None and refused.data.get("action") == transition.action:
            forms_.append(
                ActionForm(
                    transition,
                    label,
                    officials,
                    note=refused.data.get("note", ""),
                    assignee=refused.data.get("assignee", ""),
                    errors=tuple(errors.values()),
                )
            )
        else:
            forms_.append(ActionForm(transition, label, officials))
    return forms_


def _form_errors(form: forms.Form) -> dict[str, str]:
    return {field: " ".join(str(m) for m in messages_) for field, messages_ in form.errors.items()}


def exemption_label(detail: dossiers.DossierDetail) -> str:
    """The fee exemption the dossier holds, in words (its code when the procedure no longer
    names it)."""
    english = get_language() == "en"
    for exemption in detail.procedure.fee_exemptions:
        if exemption.get("code") == detail.fee_exemption:
            return str((english and exemption.get("label_en")) or exemption.get("label") or "")
    return ""


def partial_date(text: str) -> str:
    """A registry date, whole (yyyy-mm-dd) or partial (yyyy-mm, yyyy), as people write it."""
    parts = text.split("-") if text else []
    if len(parts) == 3:
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2:
        return f"{parts[1]}/{parts[0]}"
    return text


def _may_preview(detail: dossiers.DossierDetail) -> bool:
    return not detail.result_code and any(t.action == "approve" for t in detail.actions)


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
    detail = dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    if apology is None:
        apology = ApologyForm(initial={"version": detail.version})
    return render(
        request,
        "backoffice/dossier.html",
        {
            "d": detail,
            "declaration": declaration_rows(detail),
            "papers": paper_rows(detail),
            "events": event_rows(detail),
            "action_forms": _action_forms(detail, step, step_errors or {}),
            "apology_form": apology,
            "error": error,
            "step_errors": step_errors or {},
            "may_preview": _may_preview(detail),
            "tag": STATUS_TAGS.get(detail.row.status, ""),
            "exemption": exemption_label(detail),
            "assignee_name": dict(dossiers.officials_of_agency(detail.agency_id)).get(
                detail.assignee, detail.assignee
            ),
            "birth_date": partial_date(detail.applicant.birth_date if detail.applicant else ""),
            "step_field": step.data.get("action", "") if step is not None else "",
            "summary_errors": _summary_errors(detail, error, step, step_errors or {}),
            "package": dossiers.package_of_dossier(dossier_id),
        },
        status=status,
    )


def _summary_errors(
    detail: dossiers.DossierDetail, error: str, step: StepForm | None, errors: dict[str, str]
) -> list[tuple[str, str]]:
    """The step's errors for the summary, each with where it points: a declaration field's
    (an effect the registry refused) under the form's title of that field."""
    titles = dict(detail.procedure.form_fields)
    action = step.data.get("action", "") if step is not None else ""
    rows: list[tuple[str, str]] = []
    for field, message in errors.items():
        if message == error:
            continue  # the summary's first line says it already
        if field == "note" and action:
            rows.append((f"#note-{action}", message))
        elif field.startswith("declaration."):
            name = field.removeprefix("declaration.")
            title = titles.get(name, {}).get("title", name)
            rows.append(("#declaration", f"{title}: {message}"))
        else:
            rows.append(("", message))
    return rows


@official_required
def dossier_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    return _dossier_page(request, actor, dossier_id)


CONFIRM_SALT = "motcua.backoffice.step-confirm"
CONFIRM_MAX_AGE = 15 * 60


def _step_digest(dossier_id: int, data: dict[str, Any]) -> dict[str, Any]:
    said = f"{data['note']}\x00{data['assignee']}".encode()
    return {
        "d": dossier_id,
        "a": data["action"],
        "v": data["version"],
        "h": hashlib.sha256(said).hexdigest(),
    }


def confirm_token(request: HttpRequest, dossier_id: int, data: dict[str, Any]) -> str:
    """What the confirm page carries: this step, on this version, with this reason, by this
    official, for a few minutes. A step posted without it is shown for confirmation, not taken."""
    return signing.dumps(
        _step_digest(dossier_id, data), salt=f"{CONFIRM_SALT}:{request.user.pk}", compress=True
    )


def _confirmed(request: HttpRequest, dossier_id: int, data: dict[str, Any], token: str) -> bool:
    if not token:
        return False
    try:
        said = signing.loads(
            token, salt=f"{CONFIRM_SALT}:{request.user.pk}", max_age=CONFIRM_MAX_AGE
        )
    except signing.BadSignature:
        return False
    return bool(said == _step_digest(dossier_id, data))


def _confirm_page(
    request: HttpRequest, actor: Actor, dossier_id: int, data: dict[str, Any]
) -> HttpResponse:
    detail = dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    transition = next((t for t in detail.actions if t.action == data["action"]), None)
    if transition is None:  # not a step of this official now: the service says why
        return _take_step(request, actor, dossier_id, data)
    return render(
        request,
        "backoffice/confirm_step.html",
        {
            "d": detail,
            "action": data["action"],
            "label": action_label(transition.action, transition.name),
            "target": catalog.Status(transition.target).label,
            "note": data["note"],
            "version": data["version"],
            "assignee": data["assignee"],
            "token": confirm_token(request, dossier_id, data),
            "warning": data["action"] in WARNING_ACTIONS,
            "may_preview": data["action"] == "approve" and _may_preview(detail),
        },
    )


def _take_step(
    request: HttpRequest,
    actor: Actor,
    dossier_id: int,
    data: dict[str, Any],
    form: StepForm | None = None,
) -> HttpResponse:
    try:
        dossier = services.dossier_act(
            actor=actor,
            step=services.Step(
                dossier_id=dossier_id,
                action=data["action"],
                version=data["version"],
                note=data["note"],
                assignee=data["assignee"],
            ),
        )
    except (ValidationFailed, Conflict) as error:
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
        request,
        _("Đã cập nhật hồ sơ %(code)s: %(status)s") % {"code": dossier.code, "status": label},
    )
    return redirect("backoffice:dossier", dossier_id=dossier_id)


@require_POST
@official_required
def step_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    """A step from the dossier page. Refusing, rejecting and approving come back first as a
    page that shows what will happen (the reason, the result to be issued) and asks to confirm:
    only a post carrying that page's token for the same step, version and reason takes it."""
    form = StepForm(request.POST)
    if not form.is_valid():
        return _dossier_page(
            request,
            actor,
            dossier_id,
            error=_("Dữ liệu không hợp lệ"),
            step=form,
            step_errors=_form_errors(form),
            status=422,
        )
    data = form.cleaned_data
    if (
        data["action"] in CONFIRMED_ACTIONS
        and (data["note"].strip() or data["action"] == "approve")
        and not _confirmed(request, dossier_id, data, request.POST.get("confirm", ""))
    ):
        return _confirm_page(request, actor, dossier_id, data)
    return _take_step(request, actor, dossier_id, data, form)


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
        except (ValidationFailed, Conflict) as error:
            _apology_errors(form, error)
            return _dossier_page(
                request, actor, dossier_id, error=error.message, apology=form, status=error.status
            )
        messages.success(
            request,
            _("Đã lập phiếu xin lỗi, hẹn trả ngày %(date)s")
            % {"date": f"{apology.new_due:%d/%m/%Y}"},
        )
        return redirect("backoffice:dossier", dossier_id=dossier_id)
    return _dossier_page(
        request, actor, dossier_id, error=_("Dữ liệu không hợp lệ"), apology=form, status=422
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
    detail = dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    return paper_response(detail, paper, apology_id)


@require_GET
@official_required
def preview_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    """The result notice the approval will issue, as it will read, before the approver
    approves (its result code is given when the result is issued)."""
    detail = dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    if not _may_preview(detail):
        raise Http404
    draft = replace(detail, result_code=_("(cấp khi ban hành kết quả)"))
    response = HttpResponse(services.result_pdf(draft), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="du-thao-ket-qua-{detail.row.code}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
