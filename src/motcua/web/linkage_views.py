"""The back office's record-linkage pages: start a job with a sector dataset, follow its progress,
read its report, download its results (as the engine wrote them, or as a spreadsheet in words),
and review the pairs it could not decide. Thin: parsing and rendering around linkage's services
and selectors, which check who may do what and log every read of a citizen's facts; their
refusals (NotFound, PermissionDenied) become the error page in the domain-error middleware."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from typing import Any

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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from motcua.core.actors import Actor
from motcua.core.errors import Conflict, PermissionDenied, ValidationFailed
from motcua.dossiers import selectors as dossiers
from motcua.geo import selectors as geo
from motcua.linkage import selectors as linkage
from motcua.linkage import services
from motcua.web.backoffice import (
    EXPORT_FORMATS,
    official_required,
    page_of,
    table_response,
)

PAGE_SIZE = 50
# The engine's report is a self-contained HTML page (inline SVG and styles): shown as it is,
# with nothing in it allowed to run, load anything, submit anything or be framed.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox"
)
STATUS_TAGS = {
    "queued": "govuk-tag--grey",
    "running": "govuk-tag--blue",
    "done": "govuk-tag--green",
    "failed": "govuk-tag--red",
}
DECISION_TAGS = {
    "pending": "govuk-tag--yellow",
    "confirmed": "govuk-tag--green",
    "rejected": "govuk-tag--grey",
}


# --- who may use the pages ----------------------------------------------------------------------
# Checked here first only to say it in words: the selectors and services check it again (and
# their refusal names the permission's code, which a person should not have to read).


def _may_see(actor: Actor) -> None:
    if not (actor.can(services.RUN_PERMISSION) or actor.can(services.REVIEW_PERMISSION)):
        raise PermissionDenied(_("Bạn chưa được giao quyền chạy liên kết dữ liệu hay đối soát."))


def _may_run(actor: Actor) -> None:
    if not actor.can(services.RUN_PERMISSION):
        raise PermissionDenied(
            _("Chỉ cán bộ được giao quyền chạy liên kết dữ liệu mới làm được việc này.")
        )


def _may_review(actor: Actor) -> None:
    if not actor.can(services.REVIEW_PERMISSION):
        raise PermissionDenied(_("Chỉ cán bộ được giao quyền đối soát mới làm được việc này."))


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
                _("Dòng %(number)s: viết theo mẫu trường=cột") % {"number": number}
            )
        columns[field.strip()] = column.strip()
    return columns


class StartForm(forms.Form):
    dataset = forms.FileField(
        label=gettext_lazy("Tệp dữ liệu"),
        help_text=gettext_lazy("Tệp .csv (mã UTF-8) hoặc .parquet"),
        widget=forms.FileInput(attrs={"accept": ".csv,.parquet"}),
        error_messages={"required": gettext_lazy("Chọn tệp dữ liệu")},
    )
    kind = forms.ChoiceField(label=gettext_lazy("Loại dữ liệu"))
    columns = forms.CharField(
        label=gettext_lazy("Tên cột khác của tệp"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 3, "spellcheck": "false", "placeholder": "full_name=hoten"}
        ),
        help_text=gettext_lazy(
            "Mỗi dòng một cặp trường=cột, khi tên cột của tệp khác tên mặc định, ví dụ "
            "full_name=hoten"
        ),
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
                label=gettext_lazy("Cơ quan chủ trì"),
                choices=[("", _("Chọn cơ quan")), *agencies],
                coerce=int,
            )
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_columns(self) -> dict[str, str]:
        return _columns(self.cleaned_data.get("columns") or "")


def _jobs_page(
    request: HttpRequest, actor: Actor, form: StartForm | None, *, status: int = 200
) -> HttpResponse:
    _may_see(actor)
    jobs = linkage.linkage_jobs(actor=actor)
    may_run = actor.can(services.RUN_PERMISSION)
    if form is None and may_run:
        form = StartForm(agencies=dossiers.agencies_served(actor))
    return render(
        request,
        "backoffice/linkage_jobs.html",
        {
            "jobs": [(j, STATUS_TAGS.get(j.status, "")) for j in jobs],
            "form": form if may_run else None,
            "any_running": any(j.status in ("queued", "running") for j in jobs),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@official_required
def jobs_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method != "POST":
        return _jobs_page(request, actor, None)
    _may_run(actor)
    form = StartForm(request.POST, request.FILES, agencies=dossiers.agencies_served(actor))
    if not form.is_valid():
        return _jobs_page(request, actor, form, status=422)
    try:
        started = services.linkage_job_start(
            actor=actor,
            upload=form.cleaned_data["dataset"],
            kind=form.cleaned_data["kind"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            columns=form.cleaned_data["columns"],
            agency_id=form.cleaned_data.get("agency"),
        )
    except (ValidationFailed, Conflict) as error:
        if error.message not in error.errors.values():
            form.add_error(None, error.message)
        for field, message in error.errors.items():
            shown = field in form.fields and field != "idempotency_key"
            form.add_error(field if shown else None, message)
        return _jobs_page(request, actor, form, status=error.status)
    if started.created:
        messages.success(
            request,
            _("Đã nhận tệp, lượt liên kết số %(id)s đang chờ chạy") % {"id": started.id},
        )
    return redirect("backoffice:linkage_job", job_id=started.id)


# --- one job ------------------------------------------------------------------------------------


@require_GET
@official_required
def job_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    _may_see(actor)
    job = linkage.linkage_job_get(actor=actor, job_id=job_id)
    methods = [
        (linkage.method_label(method), count)
        for method, count in sorted(job.by_method.items(), key=lambda item: -item[1])
    ]
    return render(
        request,
        "backoffice/linkage_job.html",
        {
            "job": job,
            "methods": methods,
            "stages": linkage.STAGES,
            "tag": STATUS_TAGS.get(job.row.status, ""),
        },
    )


@require_POST
@official_required
def resume_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    _may_run(actor)
    try:
        services.linkage_job_resume(actor=actor, job_id=job_id)
    except (ValidationFailed, Conflict) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Đã xếp lượt chạy lại"))
    return redirect("backoffice:linkage_job", job_id=job_id)


@require_GET
@official_required
def progress_view(request: HttpRequest, actor: Actor, job_id: int) -> JsonResponse:
    """What the job page polls every 2 seconds while the job runs."""
    _may_see(actor)
    p = linkage.linkage_job_progress(actor=actor, job_id=job_id)
    response = JsonResponse(
        {
            "id": p.id,
            "status": p.status,
            "status_label": str(p.status_label),
            "stage": p.stage,
            "stage_label": str(p.stage_label),
            "done": p.done,
            "total": p.total,
            "percent": p.percent,
            "finished": p.finished,
            "error": p.error,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


# What makes the engine's report fit a phone: its tables scroll inside their own box and its
# chart shrinks, instead of the page growing wider than the screen.
REPORT_FIT = (
    b'<meta name="viewport" content="width=device-width, initial-scale=1">'
    b"<style>body{overflow-wrap:anywhere}table{display:block;max-width:100%;overflow-x:auto}"
    b"svg{max-width:100%;height:auto}pre{white-space:pre-wrap}</style>"
)


def fitted_report(html: bytes) -> bytes:
    """The report with REPORT_FIT after its character set (or first, when it names none)."""
    charset = b'<meta charset="utf-8">'
    if charset in html:
        return html.replace(charset, charset + REPORT_FIT, 1)
    return REPORT_FIT + html


@require_GET
@official_required
def report_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponseBase:
    _may_see(actor)
    found = linkage.linkage_job_file(actor=actor, job_id=job_id, which="report")
    response = HttpResponse(fitted_report(found.path.read_bytes()), content_type=found.content_type)
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
    _may_run(actor)
    found = linkage.linkage_job_file(actor=actor, job_id=job_id, which="output")
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


@require_GET
@official_required
def results_export_view(request: HttpRequest, actor: Actor, job_id: int, fmt: str) -> HttpResponse:
    """The per-record results in words (the result, how it was linked, the dataset's columns
    named by what they hold), as CSV or Excel. Each citizen they name is logged."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    _may_run(actor)
    table = linkage.linkage_results_table(actor=actor, job_id=job_id)
    return table_response(
        header=table.header,
        rows=_wards_named(table.header, table.rows),
        fmt=fmt,
        filename=f"ket-qua-lien-ket-{job_id}-{timezone.localdate():%Y%m%d}",
        sheet=_("Kết quả liên kết"),
    )


def _wards_named(header: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """The dataset's ward column by the wards' names instead of their unit codes."""
    label = str(linkage.FIELD_LABELS["ward"])
    if label not in header:
        return rows
    at = header.index(label)
    units = geo.units_get(str(row[at]) for row in rows if row[at])
    for row in rows:
        unit = units.get(str(row[at] or ""))
        if unit is not None:
            row[at] = unit.full_name or unit.name
    return rows


# --- review -------------------------------------------------------------------------------------


class QueueForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Trạng thái"),
        required=False,
        choices=[
            ("", gettext_lazy("Tất cả")),
            ("pending", gettext_lazy("Chờ đối soát")),
            ("confirmed", gettext_lazy("Đã xác nhận")),
            ("rejected", gettext_lazy("Đã bác bỏ")),
        ],
    )


class _Pairs:
    """A job's review queue as a sequence for page_of: the selector pages it itself, so the page
    asked for is read once, with the total, and a slice is that page (page_of asks for whole
    pages only, clamped as the selector clamps them)."""

    def __init__(self, actor: Actor, job_id: int, decision: str, per_page: int, wanted: int):
        self.actor, self.job_id, self.decision, self.per_page = actor, job_id, decision, per_page
        self.loaded = self._page(wanted)

    def _page(self, number: int) -> linkage.ReviewPage:
        return linkage.review_queue(
            actor=self.actor,
            job_id=self.job_id,
            decision=self.decision,
            page=number,
            page_size=self.per_page,
        )

    def __len__(self) -> int:
        return self.loaded.total

    def __getitem__(self, index: slice) -> list[linkage.PairRow]:
        number = (index.start or 0) // self.per_page + 1
        return self.loaded.rows if number == self.loaded.page else self._page(number).rows


@require_GET
@official_required
def review_view(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    _may_review(actor)
    form = QueueForm(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    try:
        wanted = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        wanted = 1
    pairs = _Pairs(actor, job_id, chosen.get("decision") or "", PAGE_SIZE, wanted)
    page = page_of(request, pairs, PAGE_SIZE)
    return render(
        request,
        "backoffice/linkage_review.html",
        {
            "q": pairs.loaded,
            "page": page,
            "rows": [
                (r, math.floor(r.probability * 1000) / 10, DECISION_TAGS.get(r.decision, ""))
                for r in page.rows
            ],
            "form": form,
        },
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Đây có phải cùng một người?"),
        choices=[
            ("confirmed", gettext_lazy("Cùng một người")),
            ("rejected", gettext_lazy("Không phải cùng một người")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Chọn cùng một người hay không")},
    )
    note = forms.CharField(
        label=gettext_lazy("Ghi chú"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


def _pair_page(
    request: HttpRequest,
    actor: Actor,
    pair_id: int,
    *,
    form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    _may_review(actor)
    pair = linkage.review_pair_get(actor=actor, pair_id=pair_id)
    if form is None:
        form = DecisionForm(initial={"version": pair.version})
    return render(
        request,
        "backoffice/linkage_pair.html",
        {
            "p": pair,
            "fields": shown_fields(pair.fields),
            "percent": math.floor(pair.probability * 1000) / 10,
            "form": form,
        },
        status=status,
    )


def shown_fields(fields: list[linkage.FieldRow]) -> list[linkage.FieldRow]:
    """The pair's facts as people read them: a ward by its name (the unit codes of either
    scheme), the sex in words."""
    wards = geo.units_get(
        [f.record for f in fields if f.field == "ward"]
        + [f.citizen for f in fields if f.field == "ward"]
    )
    sexes = {"M": _("Nam"), "F": _("Nữ"), "Nam": _("Nam"), "Nữ": _("Nữ")}

    def text(field: str, value: str) -> str:
        if field == "ward" and value in wards:
            return wards[value].full_name or wards[value].name
        if field == "sex":
            return str(sexes.get(value, value))
        return value

    return [
        replace(f, record=text(f.field, f.record), citizen=text(f.field, f.citizen)) for f in fields
    ]


@require_GET
@official_required
def pair_view(request: HttpRequest, actor: Actor, pair_id: int) -> HttpResponse:
    return _pair_page(request, actor, pair_id)


@require_POST
@official_required
def decide_view(request: HttpRequest, actor: Actor, pair_id: int) -> HttpResponse:
    _may_review(actor)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _pair_page(request, actor, pair_id, form=form, status=422)
    try:
        decided = services.review_decide(
            actor=actor,
            pair_id=pair_id,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except (ValidationFailed, Conflict) as error:
        form.add_error(None, " ".join([error.message, *error.errors.values()]))
        return _pair_page(request, actor, pair_id, form=form, status=error.status)
    said = (
        _("cùng một người") if decided.decision == "confirmed" else _("không phải cùng một người")
    )
    messages.success(request, _("Đã ghi nhận: %(said)s") % {"said": said})
    following = linkage.review_next_pending(actor=actor, job_id=decided.job_id)
    if following is not None:
        return redirect("backoffice:linkage_pair", pair_id=following)
    messages.info(request, _("Đã đối soát hết các cặp"))
    return redirect(reverse("backoffice:linkage_review", args=[decided.job_id]))
