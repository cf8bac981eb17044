"""The back office's record-linkage pages: start a job with a sector dataset, follow its progress,
read its report, download its results, and review the pairs it could not decide. Thin: parsing
and rendering around linkage's services and selectors, which check who may do what and log every
read of a citizen's facts."""

from __future__ import annotations

import math
import uuid
from typing import Any, Literal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from motcua.core.actors import Actor
from motcua.core.errors import DomainError, NotFound, PermissionDenied
from motcua.dossiers import selectors as dossiers
from motcua.linkage import selectors as linkage
from motcua.linkage import services
from motcua.web.backoffice import official_required

PAGE_SIZE = 50
# The engine's report is a self-contained HTML page (inline SVG and styles): shown as it is,
# with nothing in it allowed to run, load anything, submit anything or be framed.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox"
)


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(
        request, "backoffice/linkage_refused.html", {"error": error.message}, status=error.status
    )


# --- the jobs and the start form ----------------------------------------------------------------


def _columns(text: str) -> dict[str, str]:
    """'field=column' per line (blank lines ignored)."""
    columns: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        field, sep, column = line.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValidationError(
                f"Dòng {number}: viết trường=cột / line {number}: write field=column"
            )
        columns[field.strip()] = column.strip()
    return columns


class StartForm(forms.Form):
    dataset = forms.FileField(
        label="Tệp dữ liệu (.csv UTF-8 hoặc .parquet) / Dataset file",
        widget=forms.FileInput(attrs={"accept": ".csv,.parquet"}),
    )
    kind = forms.ChoiceField(label="Loại dữ liệu / Kind of dataset")
    columns = forms.CharField(
        label="Tên cột khác của tệp (không bắt buộc) / The file's own column names (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "full_name=hoten\nbirth_date=ns"}),
        help_text="Mỗi dòng một trường=cột / one field=column per line",
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, min_length=8, max_length=64)

    def __init__(
        self, *args: Any, agencies: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = linkage.linkage_kinds()
        if agencies and len(agencies) > 1:  # an official of several agencies says for which
            self.fields["agency"] = forms.TypedChoiceField(
                label="Cơ quan chủ trì / For the agency",
                choices=[("", "—"), *agencies],
                coerce=int,
            )
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_columns(self) -> dict[str, str]:
        return _columns(self.cleaned_data.get("columns") or "")


def _jobs_page(
    request: HttpRequest,
    actor: Actor,
    form: StartForm | None,
    *,
    error: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        jobs = linkage.linkage_jobs(actor=actor)
    except PermissionDenied as refused:
        return _refused(request, refused)
    may_run = actor.can(services.RUN_PERMISSION)
    if form is None and may_run:
        form = StartForm(agencies=dossiers.agencies_served(actor))
    return render(
        request,
        "backoffice/linkage_jobs.html",
        {
            "jobs": jobs,
            "form": form if may_run else None,
            "error": error,
            "errors": errors or {},
            "any_running": any(j.status in ("queued", "running") for j in jobs),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@official_required
def jobs_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method != "POST":
        return _jobs_page(request, actor, None)
    form = StartForm(request.POST, request.FILES, agencies=dossiers.agencies_served(actor))
    if not form.is_valid():
        return _jobs_page(
            request, actor, form, error="Dữ liệu không hợp lệ / Invalid data", status=422
        )
    try:
        started = services.linkage_job_start(
            actor=actor,
            upload=form.cleaned_data["dataset"],
            kind=form.cleaned_data["kind"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            columns=form.cleaned_data["columns"],
            agency_id=form.cleaned_data.get("agency"),
        )
    except DomainError as error:
        if isinstance(error, PermissionDenied):
            return _refused(request, error)
        others = {}
        for field, message in error.errors.items():
            if field in form.fields and field != "idempotency_key":
                form.add_error(field, message)
            else:
                others[field] = message
        return _jobs_page(
            request, actor, form, error=error.message, errors=others, status=error.status
        )
    if started.created:
        messages.success(
            request,
            f"Đã nhận tệp, lượt liên kết #{started.id} đang chờ chạy / "
            "the dataset was accepted and the job is queued",
        )
    return redirect("backoffice:linkage_job", job_id=started.id)


# --- one job ------------------------------------------------------------------------------------


@require_GET
@official_required
def job_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    try:
        job = linkage.linkage_job_get(actor=actor, job_id=job_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        return _refused(request, error)
    methods = sorted(job.by_method.items(), key=lambda item: -item[1])
    return render(
        request,
        "backoffice/linkage_job.html",
        {"job": job, "methods": methods, "stages": linkage.STAGES},
    )


@require_POST
@official_required
def resume_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    try:
        services.linkage_job_resume(actor=actor, job_id=job_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        return _refused(request, error)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Đã xếp lượt chạy lại / the job is queued again")
    return redirect("backoffice:linkage_job", job_id=job_id)


@require_GET
@official_required
def progress_view(request: HttpRequest, actor: Actor, job_id: int) -> JsonResponse:
    """What the job page polls every 2 seconds while the job runs."""
    try:
        p = linkage.linkage_job_progress(actor=actor, job_id=job_id)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    response = JsonResponse(
        {
            "id": p.id,
            "status": p.status,
            "status_label": p.status_label,
            "stage": p.stage,
            "stage_label": p.stage_label,
            "done": p.done,
            "total": p.total,
            "percent": p.percent,
            "finished": p.finished,
            "error": p.error,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _job_file(actor: Actor, job_id: int, which: Literal["report", "output"]) -> linkage.JobFile:
    try:
        return linkage.linkage_job_file(actor=actor, job_id=job_id, which=which)
    except NotFound as error:
        raise Http404(error.message) from error


@require_GET
@official_required
def report_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponseBase:
    try:
        found = _job_file(actor, job_id, "report")
    except PermissionDenied as error:
        return _refused(request, error)
    response = FileResponse(open(found.path, "rb"), content_type=found.content_type)  # noqa: SIM115
    response["Content-Security-Policy"] = REPORT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@official_required
def output_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponseBase:
    """The per-record results as the engine wrote them, or (?dinh-dang=csv) as CSV for a
    spreadsheet, with formula-like cells made text. Each citizen they name is logged."""
    as_csv = request.GET.get("dinh-dang") == "csv"
    try:
        found = _job_file(actor, job_id, "output")
    except PermissionDenied as error:
        return _refused(request, error)
    response: HttpResponseBase
    if as_csv:
        response = StreamingHttpResponse(
            linkage.linkage_results_csv(found), content_type="text/csv; charset=utf-8"
        )
        name = found.download_name.rsplit(".", 1)[0] + ".csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            open(found.path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=found.download_name,
            content_type=found.content_type,
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- review -------------------------------------------------------------------------------------


class QueueForm(forms.Form):
    decision = forms.ChoiceField(
        label="Trạng thái / Status",
        required=False,
        choices=[
            ("", "Tất cả / all"),
            ("pending", "Chờ đối soát / pending"),
            ("confirmed", "Đã xác nhận / confirmed"),
            ("rejected", "Đã bác bỏ / rejected"),
        ],
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


def _page_url(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return f"?{params.urlencode()}"


@require_GET
@official_required
def review_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    form = QueueForm(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    try:
        queue = linkage.review_queue(
            actor=actor,
            job_id=job_id,
            decision=chosen.get("decision") or "",
            page=chosen.get("page") or 1,
            page_size=PAGE_SIZE,
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        return _refused(request, error)
    return render(
        request,
        "backoffice/linkage_review.html",
        {
            "q": queue,
            "form": form,
            "previous_url": _page_url(request, queue.page - 1) if queue.page > 1 else "",
            "next_url": _page_url(request, queue.page + 1) if queue.page < queue.pages else "",
        },
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirmed", "confirmed"), ("rejected", "rejected")])
    version = forms.IntegerField()
    note = forms.CharField(required=False, max_length=2000)


def _pair_page(
    request: HttpRequest,
    actor: Actor,
    pair_id: int,
    *,
    error: str = "",
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        pair = linkage.review_pair_get(actor=actor, pair_id=pair_id)
    except NotFound as refused:
        raise Http404(refused.message) from refused
    except PermissionDenied as refused:
        return _refused(request, refused)
    return render(
        request,
        "backoffice/linkage_pair.html",
        {
            "p": pair,
            "percent": math.floor(pair.probability * 1000) / 10,
            "error": error,
            "note": note,
        },
        status=status,
    )


@require_GET
@official_required
def pair_view(request: HttpRequest, actor: Actor, pair_id: int) -> HttpResponse:
    return _pair_page(request, actor, pair_id)


@require_POST
@official_required
def decide_view(request: HttpRequest, actor: Actor, pair_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _pair_page(
            request,
            actor,
            pair_id,
            error="Dữ liệu không hợp lệ / Invalid data",
            note=request.POST.get("note", ""),
            status=422,
        )
    try:
        decided = services.review_decide(
            actor=actor,
            pair_id=pair_id,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        return _refused(request, error)
    except DomainError as error:
        return _pair_page(
            request,
            actor,
            pair_id,
            error=" ".join([error.message, *error.errors.values()]),
            note=form.cleaned_data["note"],
            status=error.status,
        )
    said = (
        "cùng một người / the same person"
        if decided.decision == "confirmed"
        else "không phải cùng một người / not the same person"
    )
    messages.success(request, f"Đã ghi nhận / recorded: {said}")
    following = linkage.review_next_pending(actor=actor, job_id=decided.job_id)
    if following is not None:
        return redirect("backoffice:linkage_pair", pair_id=following)
    messages.info(request, "Đã đối soát hết các cặp / every pair is decided")
    return redirect(reverse("backoffice:linkage_review", args=[decided.job_id]))
