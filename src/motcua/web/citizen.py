"""The citizen portal's public-service pages: find a procedure, submit a dossier with what the
state already knows filled in (the form, then check your answers, then the confirmation), follow
it, supplement, withdraw, rate, download papers; and look a dossier up by its receipt code."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from motcua.catalog import selectors as catalog
from motcua.core.actors import Actor
from motcua.core.clients import client_ip
from motcua.core.errors import DomainError, ValidationFailed
from motcua.core.forms import errors_onto
from motcua.core.held import HeldFile, held_claim, held_open, held_release, held_store
from motcua.core.uploads import private_file_response, upload_check
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services
from motcua.identity.services import Limit, limit_hit
from motcua.web.forms import (
    KEY_PATTERN,
    LookupForm,
    RatingForm,
    SubmitForm,
    SupplementForm,
    WithdrawForm,
    component_name,
    english,
)
from motcua.web.portal import SESSION_KEY, session_level, step_up_redirect, step_up_tried

View = Callable[..., HttpResponseBase]


def citizen_actor(request: HttpRequest) -> Actor | None:
    """The citizen signed in to the portal through the e-ID provider, if any."""
    citizen = request.session.get(SESSION_KEY)
    if not citizen or not citizen.get("pin"):
        return None
    return Actor(kind="citizen", ref=citizen["pin"], pin=citizen["pin"])


def citizen_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        actor = citizen_actor(request)
        if actor is None:
            return redirect(f"{reverse('portal_login')}?next={request.path}")
        return view(request, actor, *args, **kwargs)

    return wrapped


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("citizen", request.session.get(SESSION_KEY))
    return render(request, template, context, status=status)


# --- the catalog --------------------------------------------------------------------------------


def procedures_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    field = request.GET.get("linh_vuc", "")[:100]
    found = catalog.procedure_search(query, field=field)
    suggestions = catalog.procedure_suggestions(query) if query and not found else []
    return _page(
        request,
        "web/procedures.html",
        {
            "query": query,
            "field": field,
            "fields": catalog.procedure_fields(),
            "procedures": found,
            "suggestions": suggestions,
        },
    )


def procedure_view(request: HttpRequest, code: str) -> HttpResponse:
    procedure = catalog.procedure_current(code)
    actor = citizen_actor(request)
    papers = dossiers.papers_of(actor=actor, procedure_code=code) if actor else None
    still_open = dossiers.open_dossiers_of(actor=actor, procedure_code=code) if actor else []
    return _page(
        request,
        "web/procedure.html",
        {
            "procedure": procedure,
            "rows": _paper_rows(procedure, papers),
            "open_dossiers": still_open,
        },
    )


def _need(component: catalog.ComponentView, signed_in: bool) -> str:
    if component.source == "form":
        return _("Điền trực tuyến")
    if component.source in ("result", "wallet") and not signed_in:
        return _("Không phải nộp nếu hệ thống đã có")
    return _("Tải lên") if component.required else _("Tải lên nếu có")


def _paper_rows(
    procedure: catalog.ProcedureSnapshot, papers: list[dossiers.PaperNeed] | None
) -> list[dict[str, str]]:
    """Each paper and what the visitor must do about it; for a signed-in citizen, also the
    papers the state holds for them in particular (an earlier result)."""
    labels = catalog.source_labels()
    held = (
        {p.component.code: p.held_by for p in papers}
        if papers is not None
        else {c.code: c.source for c in procedure.components if c.held_by_registry}
    )
    return [
        {
            "name": component_name(c),
            "held": labels[held[c.code]] if held.get(c.code) else "",
            "need": _need(c, papers is not None),
        }
        for c in procedure.components
    ]


def once_only_view(request: HttpRequest) -> HttpResponse:
    return _page(request, "web/once_only.html", {"report": catalog.once_only_report()})


# --- submitting: the form, check your answers, the confirmation --------------------------------

STEP_UP_PARAM = "buoc-len"  # ?buoc-len=1: try the higher-level sign-in again
DRAFT_PARAM = "nhap"  # ?nhap=<key>: the draft (its idempotency key) the pages are about
DRAFTS_KEY = "portal_drafts"
MAX_DRAFTS = 10
HELD_PREFIX = "held_"  # the hidden input that carries a held file's token


def _drafts(request: HttpRequest) -> dict[str, dict[str, Any]]:
    drafts: dict[str, dict[str, Any]] = request.session.get(DRAFTS_KEY) or {}
    return drafts


def _draft(request: HttpRequest, key: str, code: str) -> dict[str, Any] | None:
    """The session's draft under `key`, if it is one of this procedure."""
    draft = _drafts(request).get(key) if KEY_PATTERN.match(key or "") else None
    return draft if draft is not None and draft.get("procedure") == code else None


def _draft_save(request: HttpRequest, key: str, draft: dict[str, Any]) -> None:
    drafts = _drafts(request)
    drafts[key] = {**draft, "at": time.time()}
    for old in sorted(drafts, key=lambda k: drafts[k]["at"])[:-MAX_DRAFTS]:
        drafts.pop(old)
    request.session[DRAFTS_KEY] = drafts


def _claimed(request: HttpRequest, tokens: dict[str, str]) -> dict[str, HeldFile]:
    found = {name: held_claim(request.session, token) for name, token in tokens.items()}
    return {name: held for name, held in found.items() if held is not None}


def _submit_form(
    start: dossiers.SubmissionStart,
    data: QueryDict | None,
    held: dict[str, HeldFile],
    default_agency: int | None,
) -> SubmitForm:
    return SubmitForm(
        data,
        procedure=start.procedure,
        agencies=start.agencies,
        papers=start.papers,
        prefilled=start.prefilled,
        locked=start.locked,
        held=held,
        initial={"agency_id": default_agency},
    )


def _query_dict(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, items)
    return data


def _level_checked(request: HttpRequest, code: str) -> tuple[int, HttpResponseBase | None]:
    needed = catalog.procedure_current(code).min_eid_level
    level = session_level(request.session.get(SESSION_KEY))
    return level, (_level_too_low(request, code, needed) if level < needed else None)


@citizen_required
def submit_view(request: HttpRequest, actor: Actor, code: str) -> HttpResponseBase:
    """The form. Sent, it is checked in one pass (the form's own rules and every rule of the
    service, the registry's included); files sent with it are kept whatever else is wrong; a
    form without errors leads to the check-your-answers page."""
    _level, refused = _level_checked(request, code)
    if refused is not None:
        return refused
    start = dossiers.submission_start(actor=actor, procedure_code=code)
    default = dossiers.submission_agency_default(actor=actor, procedure_code=code)
    default_agency = default.agency_id if default else start.default_agency_id
    if request.method == "POST":
        return _submit_posted(request, actor, start, default_agency, default)
    key = request.GET.get(DRAFT_PARAM, "")
    draft = _draft(request, key, code)
    if draft is not None and draft.get("dossier"):
        return redirect("citizen_submitted", dossier_id=draft["dossier"])
    if draft is not None:
        form = _submit_form(
            start, _query_dict(draft["data"]), _claimed(request, draft["held"]), default_agency
        )
        form.is_valid()
    else:
        form = _submit_form(start, None, {}, default_agency)
    return _submit_page(request, actor, form, default)


def _submit_page(
    request: HttpRequest,
    actor: Actor,
    form: SubmitForm,
    default: dossiers.AgencyDefault | None,
    status: int = 200,
) -> HttpResponse:
    procedure = form.procedure
    if default is not None:
        reason = (
            _("Cơ quan nơi bạn thường trú (%(ward)s): %(agency)s. Bạn có thể chọn cơ quan khác.")
            if default.residence == "permanent"
            else _("Cơ quan nơi bạn tạm trú (%(ward)s): %(agency)s. Bạn có thể chọn cơ quan khác.")
        )
        form.fields["agency_id"].help_text = reason % {
            "ward": default.ward_name,
            "agency": default.agency_name,
        }
    context = {
        "procedure": procedure,
        "form": form,
        "agency_default": default,
        "open_dossiers": dossiers.open_dossiers_of(actor=actor, procedure_code=procedure.code),
    }
    return _page(request, "web/submit.html", context, status)


def _submit_posted(
    request: HttpRequest,
    actor: Actor,
    start: dossiers.SubmissionStart,
    default_agency: int | None,
    default: dossiers.AgencyDefault | None,
) -> HttpResponseBase:
    code = start.procedure.code
    key = request.POST.get("idempotency_key", "")
    if not KEY_PATTERN.match(key):
        key = uuid.uuid4().hex
    earlier = _drafts(request).get(key) or {}
    if earlier.get("dossier"):  # back to the form after filing, and sent again: the same dossier
        return redirect("citizen_submitted", dossier_id=earlier["dossier"])
    data = request.POST.copy()
    data["idempotency_key"] = key
    uploads = {f"file_{p.component.code}" for p in start.papers if p.upload}
    held, refused = _held_uploads(request, uploads)
    form = _submit_form(start, data, held, default_agency)
    form.is_valid()
    for name, message in refused.items():
        form.errors[name] = form.error_class([message])
    _service_errors_onto(form, actor, key, held)
    if form.errors:
        return _submit_page(request, actor, form, default, status=422)
    cleaned = form.cleaned_data
    _draft_save(
        request,
        key,
        {
            "procedure": code,
            "data": {
                name: items
                for name, items in data.lists()
                if name != "csrfmiddlewaretoken" and not name.startswith(HELD_PREFIX)
            },
            "held": {name: h.token for name, h in held.items()},
            "agency_id": cleaned["agency_id"],
            "declaration": form.declaration(),
            "fee_exemption": cleaned.get("fee_exemption", ""),
        },
    )
    return redirect(f"{reverse('submit_check', args=[code])}?{DRAFT_PARAM}={key}")


def _submission(
    code: str, key: str, held: dict[str, HeldFile], values: dict[str, Any]
) -> services.Submission:
    return services.Submission(
        procedure_code=code,
        agency_id=int(values.get("agency_id") or 0),
        declaration=values.get("declaration") or {},
        idempotency_key=key,
        files={name.removeprefix("file_"): held_open(h) for name, h in held.items()},
        fee_exemption=values.get("fee_exemption") or "",
    )


def _service_errors_onto(
    form: SubmitForm, actor: Actor, key: str, held: dict[str, HeldFile]
) -> None:
    """The service's verdict on whatever passed the form's checks, beside the form's own: a
    field the form already found wrong keeps the form's message."""
    cleaned = getattr(form, "cleaned_data", {})
    values = {
        "agency_id": cleaned.get("agency_id"),
        "declaration": form.declaration(),
        "fee_exemption": cleaned.get("fee_exemption", ""),
    }
    try:
        services.dossier_submission_check(
            actor=actor, submission=_submission(form.procedure.code, key, held, values)
        )
    except ValidationFailed as error:
        _errors_onto(form, error)


def _errors_onto(form: SubmitForm, error: DomainError) -> None:
    if not error.errors:
        errors_onto(form, error)
    for key, message in error.errors.items():
        name = form.field_for(key)
        if name is not None and name in form.errors:
            continue
        if name is None and key == "idempotency_key":
            continue
        form.add_error(name, message)


@citizen_required
def check_view(request: HttpRequest, actor: Actor, code: str) -> HttpResponseBase:
    """Check your answers: every answer with a link back to change it; the button files the
    dossier. The draft's key makes filing idempotent: sent twice (a double click, or back and
    send again), it is one dossier."""
    level, refused = _level_checked(request, code)
    if refused is not None:
        return refused
    key = (request.POST if request.method == "POST" else request.GET).get(DRAFT_PARAM, "")
    draft = _draft(request, key, code)
    form_url = reverse("submit", args=[code])
    if draft is None:
        messages.warning(request, _("Phiên khai hồ sơ đã hết hạn, vui lòng khai lại."))
        return redirect(form_url)
    if draft.get("dossier"):
        return redirect("citizen_submitted", dossier_id=draft["dossier"])
    start = dossiers.submission_start(actor=actor, procedure_code=code)
    held = _claimed(request, draft["held"])
    change_url = f"{form_url}?{DRAFT_PARAM}={key}"
    if len(held) < len(draft["held"]):
        messages.warning(
            request, _("Tệp đã tải lên quá một giờ nên không còn được giữ; hãy chọn lại tệp.")
        )
        return redirect(change_url)
    if request.method == "POST":
        try:
            done = services.dossier_submit(
                actor=actor,
                submission=_submission(code, key, held, draft),
                eid_level=level,
            )
        except ValidationFailed as error:
            form = _submit_form(start, _query_dict(draft["data"]), held, None)
            form.is_valid()
            _errors_onto(form, error)
            default = dossiers.submission_agency_default(actor=actor, procedure_code=code)
            return _submit_page(request, actor, form, default, status=422)
        for h in held.values():
            held_release(request.session, h.token)
        _draft_save(request, key, {**draft, "held": {}, "dossier": done.id})
        if not done.created:
            messages.info(request, _("Hồ sơ này đã được nộp trước đó; không tạo hồ sơ mới."))
        return redirect("citizen_submitted", dossier_id=done.id)
    form = _submit_form(start, None, held, None)
    context = {
        "procedure": start.procedure,
        "answers": form.answers(draft),
        "change_url": change_url,
        "key": key,
    }
    return _page(request, "web/check.html", context)


@citizen_required
def submitted_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    """The confirmation: the receipt code, the appointment, what happens next."""
    detail = dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    return _page(request, "web/submitted.html", {"d": detail})


def _level_too_low(request: HttpRequest, code: str, needed: int) -> HttpResponseBase:
    """A sign-in below the procedure's level: the first visit goes to the provider to sign in
    at that level (its second factor) and back; after an attempt that did not raise it (the
    account has no such level), the page says where to get it. A form posted at the lower
    level is refused, whatever it holds."""
    # The address comes back with its query (a check page's draft key is there), without the
    # "try again" mark, which would send the citizen off again and again.
    query = request.GET.copy()
    again = query.pop(STEP_UP_PARAM, None)
    path = f"{request.path}?{query.urlencode()}" if query else request.path
    if request.method == "GET" and (again or not step_up_tried(request, level=needed, path=path)):
        return step_up_redirect(request, level=needed, back_to=path)
    query[STEP_UP_PARAM] = "1"
    context = {
        "procedure": catalog.procedure_current(code),
        "needed": needed,
        "retry": f"{request.path}?{query.urlencode()}",
    }
    return _page(request, "web/level_needed.html", context, status=403)


# --- following a dossier ------------------------------------------------------------------------


@citizen_required
def my_dossiers_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = {
        "dossiers": dossiers.dossiers_of(actor=actor),
        "packages": dossiers.packages_of(actor=actor),
    }
    return _page(request, "web/my_dossiers.html", context)


def _detail(actor: Actor, dossier_id: int) -> dossiers.DossierDetail:
    return dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)


def _fee_exemption_label(detail: dossiers.DossierDetail) -> str:
    for e in detail.procedure.fee_exemptions:
        if e["code"] == detail.fee_exemption:
            return str(e.get("label_en") if english() and e.get("label_en") else e["label"])
    return detail.fee_exemption


def _detail_page(
    request: HttpRequest,
    actor: Actor,
    dossier_id: int,
    *,
    supplement: SupplementForm | None = None,
    rating: RatingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    detail = _detail(actor, dossier_id)
    if supplement is None:
        supplement = SupplementForm(papers=detail.papers, initial={"version": detail.version})
    return _page(
        request,
        "web/dossier.html",
        {
            "d": detail,
            "actions": {t.action for t in detail.actions},
            "supplement_form": supplement,
            "rating_form": rating or RatingForm(),
            "fee_exemption": _fee_exemption_label(detail),
            "held_papers": [component_name(p.component) for p in detail.papers if p.held_by],
            "package": dossiers.package_of_dossier(dossier_id),
        },
        status,
    )


@citizen_required
def dossier_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    return _detail_page(request, actor, dossier_id)


@citizen_required
def withdraw_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    """Asks before withdrawing: the page says what withdrawing means; only its button does it."""
    detail = _detail(actor, dossier_id)
    if request.method != "POST":
        form = WithdrawForm(initial={"version": detail.version})
        return _page(request, "web/withdraw.html", {"d": detail, "form": form})
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.dossier_act(
                actor=actor,
                step=services.Step(
                    dossier_id=dossier_id,
                    action="withdraw",
                    version=form.cleaned_data["version"],
                    note=form.cleaned_data["note"],
                ),
            )
        except ValidationFailed as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Đã rút hồ sơ %(code)s.") % {"code": detail.row.code})
            return redirect("citizen_dossier", dossier_id=dossier_id)
    return _page(request, "web/withdraw.html", {"d": detail, "form": form}, status=422)


def _held_uploads(
    request: HttpRequest, names: set[str]
) -> tuple[dict[str, HeldFile], dict[str, str]]:
    """The files of a posted form, held for this session: those sent now (each checked; the
    refused ones with their reason) and those received earlier, named by their tokens."""
    held = _claimed(request, {name: request.POST.get(HELD_PREFIX + name, "") for name in names})
    refused: dict[str, str] = {}
    for name in names & set(request.FILES):
        upload = request.FILES.get(name)
        if not isinstance(upload, UploadedFile):
            continue
        try:
            checked = upload_check(upload, field=name)
        except ValidationFailed as error:
            refused.update(error.errors)
            continue
        if name in held:
            held_release(request.session, held[name].token)
        held[name] = held_store(request.session, upload, checked)
    return held, refused


@require_POST
@citizen_required
def supplement_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    detail = _detail(actor, dossier_id)
    names = {f"file_{p.component.code}" for p in detail.papers if p.upload}
    held, refused = _held_uploads(request, names)
    form = SupplementForm(request.POST, papers=detail.papers, held=held)
    form.is_valid()
    for name, message in refused.items():
        form.errors[name] = form.error_class([message])
    if not form.errors:
        try:
            services.dossier_act(
                actor=actor,
                step=services.Step(
                    dossier_id=dossier_id,
                    action="supplement",
                    version=form.cleaned_data["version"],
                    files={n.removeprefix("file_"): held_open(h) for n, h in held.items()},
                ),
            )
        except ValidationFailed as error:
            errors_onto(form, error)
        else:
            for h in held.values():
                held_release(request.session, h.token)
            messages.success(request, _("Đã gửi giấy tờ bổ sung."))
            return redirect("citizen_dossier", dossier_id=dossier_id)
    return _detail_page(request, actor, dossier_id, supplement=form, status=422)


@require_POST
@citizen_required
def rate_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.dossier_rate(
                actor=actor,
                dossier_id=dossier_id,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationFailed as error:
            errors_onto(form, error)
        else:
            return redirect("citizen_dossier", dossier_id=dossier_id)
    return _detail_page(request, actor, dossier_id, rating=form, status=422)


# --- looking a dossier up without signing in ----------------------------------------------------

LOOKUP_LIMIT = Limit(limit=10, window_s=600)  # attempts per client address


def _lookup_allowed(request: HttpRequest) -> bool:
    """At most ten look-ups per address per ten minutes, in identity's shared limit store (the
    one every password check uses), so nobody can try PINs against a code."""
    return limit_hit(f"tra-cuu:{client_ip(request) or '-'}", limit=LOOKUP_LIMIT)


def lookup_view(request: HttpRequest) -> HttpResponse:
    """A dossier's progress by its receipt code and the applicant's PIN: status, agency, dates.
    A wrong code and a wrong PIN get the very same answer."""
    if request.method != "POST":
        return _page(request, "web/lookup.html", {"form": LookupForm()})
    form = LookupForm(request.POST)
    if not _lookup_allowed(request):
        form.is_valid()
        context = {"form": LookupForm(), "too_many": True}
        return _page(request, "web/lookup.html", context, status=429)
    if not form.is_valid():
        return _page(request, "web/lookup.html", {"form": form}, status=422)
    found = dossiers.dossier_status_lookup(
        code=form.cleaned_data["code"], pin=form.cleaned_data["pin"]
    )
    context = {"form": LookupForm(), "found": found, "not_found": found is None}
    return _page(request, "web/lookup.html", context, status=200 if found else 404)


# --- papers -------------------------------------------------------------------------------------


def pdf_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def paper_response(
    detail: dossiers.DossierDetail, paper: str, apology_id: int | None
) -> HttpResponse:
    """The receipt, the result notice or an apology slip of a dossier the actor may see."""
    code = detail.row.code
    if paper == "bien-nhan":
        return pdf_response(services.receipt_pdf(detail), f"bien-nhan-{code}.pdf")
    if paper == "ket-qua" and detail.result_code:
        return pdf_response(services.result_pdf(detail), f"ket-qua-{detail.result_code}.pdf")
    if paper == "xin-loi" and any(a.id == apology_id for a in detail.apologies):
        return pdf_response(services.apology_pdf(detail, apology_id or 0), f"xin-loi-{code}.pdf")
    raise Http404(_("Không có giấy tờ này"))


@citizen_required
def paper_view(
    request: HttpRequest, actor: Actor, dossier_id: int, paper: str, apology_id: int | None = None
) -> HttpResponse:
    return paper_response(_detail(actor, dossier_id), paper, apology_id)


def file_response(actor: Actor, dossier_id: int, file_id: int) -> HttpResponseBase:
    found = dossiers.dossier_file(actor=actor, dossier_id=dossier_id, file_id=file_id)
    return private_file_response(
        found.storage_name,
        download_name=found.original_name,
        content_type=found.content_type,
        inline=found.content_type == "application/pdf",
    )


@citizen_required
def file_view(
    request: HttpRequest, actor: Actor, dossier_id: int, file_id: int
) -> HttpResponseBase:
    return file_response(actor, dossier_id, file_id)
