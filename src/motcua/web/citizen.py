"""The citizen portal's public-service pages: find a procedure, submit a dossier with what the
state already knows filled in, follow it, supplement, withdraw, rate, download papers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from motcua.catalog import selectors as catalog
from motcua.core.actors import Actor
from motcua.core.errors import DomainError, NotFound
from motcua.core.forms import errors_onto
from motcua.core.uploads import private_file_response
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services
from motcua.web.forms import RatingForm, SubmitForm, SupplementForm
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
    return _page(
        request,
        "web/procedures.html",
        {
            "query": query,
            "field": field,
            "fields": catalog.procedure_fields(),
            "procedures": catalog.procedure_search(query, field=field),
        },
    )


def procedure_view(request: HttpRequest, code: str) -> HttpResponse:
    try:
        procedure = catalog.procedure_current(code)
    except NotFound as error:
        raise Http404(error.message) from error
    actor = citizen_actor(request)
    papers = dossiers.papers_of(actor=actor, procedure_code=code) if actor else None
    return _page(
        request,
        "web/procedure.html",
        {"procedure": procedure, "rows": _paper_rows(procedure, papers)},
    )


def _need(component: catalog.ComponentView, signed_in: bool) -> str:
    if component.source == "form":
        return "Điền trực tuyến / fill in online"
    if component.source in ("result", "wallet") and not signed_in:
        return "Không phải nộp nếu hệ thống đã có / not needed if our system holds it"
    return "Tải lên / upload" if component.required else "Tải lên nếu có / upload if any"


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
            "name": c.name,
            "name_en": c.name_en,
            "held": labels[held[c.code]] if held.get(c.code) else "",
            "need": _need(c, papers is not None),
        }
        for c in procedure.components
    ]


def once_only_view(request: HttpRequest) -> HttpResponse:
    return _page(request, "web/once_only.html", {"report": catalog.once_only_report()})


# --- submitting ---------------------------------------------------------------------------------


def _submit_form(request: HttpRequest, start: dossiers.SubmissionStart) -> SubmitForm:
    posted = request.method == "POST"
    return SubmitForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        procedure=start.procedure,
        agencies=start.agencies,
        papers=start.papers,
        prefilled=start.prefilled,
        locked=start.locked,
        initial={"agency_id": start.default_agency_id},
    )


STEP_UP_PARAM = "buoc-len"  # ?buoc-len=1: try the higher-level sign-in again


@citizen_required
def submit_view(request: HttpRequest, actor: Actor, code: str) -> HttpResponseBase:
    try:
        needed = catalog.procedure_current(code).min_eid_level
    except NotFound as error:
        raise Http404(error.message) from error
    level = session_level(request.session.get(SESSION_KEY))
    if level < needed:
        return _level_too_low(request, code, needed)
    try:
        start = dossiers.submission_start(actor=actor, procedure_code=code)
    except NotFound as error:
        raise Http404(error.message) from error
    procedure = start.procedure
    form = _submit_form(request, start)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.dossier_submit(
                actor=actor,
                submission=services.Submission(
                    procedure_code=procedure.code,
                    agency_id=form.cleaned_data["agency_id"],
                    declaration=form.declaration(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    files=form.files_by_component(),
                    fee_exemption=form.cleaned_data.get("fee_exemption", ""),
                ),
                eid_level=level,
            )
        except DomainError as error:
            _errors_onto(form, error)
        else:
            return redirect("citizen_dossier", dossier_id=done.id)
    status = 422 if form.errors else 200
    return _page(request, "web/submit.html", {"procedure": procedure, "form": form}, status)


def _level_too_low(request: HttpRequest, code: str, needed: int) -> HttpResponseBase:
    """A sign-in below the procedure's level: the first visit goes to the provider to sign in
    at that level (its second factor) and back; after an attempt that did not raise it (the
    account has no such level), the page says where to get it. A form posted at the lower
    level is refused, whatever it holds."""
    path = request.path
    if request.method == "GET" and (
        request.GET.get(STEP_UP_PARAM) or not step_up_tried(request, level=needed, path=path)
    ):
        return step_up_redirect(request, level=needed, back_to=path)
    context = {
        "procedure": catalog.procedure_current(code),
        "needed": needed,
        "retry": f"{path}?{STEP_UP_PARAM}=1",
    }
    return _page(request, "web/level_needed.html", context, status=403)


def _errors_onto(form: SubmitForm, error: DomainError) -> None:
    if not error.errors:
        errors_onto(form, error)
    for key, message in error.errors.items():
        form.add_error(form.field_for(key), message)


# --- following a dossier ------------------------------------------------------------------------


@citizen_required
def my_dossiers_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, "web/my_dossiers.html", {"dossiers": dossiers.dossiers_of(actor=actor)})


def _detail(actor: Actor, dossier_id: int) -> dossiers.DossierDetail:
    try:
        return dossiers.dossier_detail(actor=actor, dossier_id=dossier_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _detail_page(
    request: HttpRequest,
    actor: Actor,
    dossier_id: int,
    *,
    supplement: SupplementForm | None = None,
    rating: RatingForm | None = None,
    error: str = "",
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
            "error": error,
        },
        status,
    )


@citizen_required
def dossier_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    return _detail_page(request, actor, dossier_id)


@require_POST
@citizen_required
def withdraw_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    try:
        services.dossier_act(
            actor=actor,
            step=services.Step(
                dossier_id=dossier_id,
                action="withdraw",
                version=int(request.POST.get("version", 0)),
                note=request.POST.get("note", ""),
            ),
        )
    except DomainError as error:
        return _detail_page(request, actor, dossier_id, error=error.message, status=error.status)
    return redirect("citizen_dossier", dossier_id=dossier_id)


@require_POST
@citizen_required
def supplement_view(request: HttpRequest, actor: Actor, dossier_id: int) -> HttpResponse:
    detail = _detail(actor, dossier_id)
    form = SupplementForm(request.POST, request.FILES, papers=detail.papers)
    if form.is_valid():
        try:
            services.dossier_act(
                actor=actor,
                step=services.Step(
                    dossier_id=dossier_id,
                    action="supplement",
                    version=form.cleaned_data["version"],
                    files=form.files_by_component(),
                ),
            )
        except DomainError as error:
            errors_onto(form, error)
        else:
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
        except DomainError as error:
            errors_onto(form, error)
        else:
            return redirect("citizen_dossier", dossier_id=dossier_id)
    return _detail_page(request, actor, dossier_id, rating=form, status=422)


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
    raise Http404("Không có giấy tờ này / no such paper")


@citizen_required
def paper_view(
    request: HttpRequest, actor: Actor, dossier_id: int, paper: str, apology_id: int | None = None
) -> HttpResponse:
    return paper_response(_detail(actor, dossier_id), paper, apology_id)


def file_response(actor: Actor, dossier_id: int, file_id: int) -> HttpResponseBase:
    try:
        found = dossiers.dossier_file(actor=actor, dossier_id=dossier_id, file_id=file_id)
    except NotFound as error:
        raise Http404(error.message) from error
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
