"""The citizen portal's pages for linked packages (thủ tục liên thông, Decree 63/2024): one form
for a group of procedures (what the state already knows shown, not asked), check your answers,
the one appointment, then each step followed agency by agency, with the step that failed and why;
and withdrawing a package that runs.

Drafts, held uploads and the e-ID level check are the portal's own (web.citizen): a package's
draft is stored under `package:<kind>` in place of a procedure code."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog import selectors as catalog
from motcua.core.actors import Actor
from motcua.core.errors import DomainError, ValidationFailed
from motcua.core.forms import errors_onto
from motcua.core.held import HeldFile, held_open, held_release
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services
from motcua.registry import selectors as registry
from motcua.web.citizen import (
    DRAFT_PARAM,
    HELD_PREFIX,
    _claimed,
    _draft,
    _draft_save,
    _drafts,
    _held_uploads,
    _level_too_low,
    _page,
    _query_dict,
    citizen_required,
)
from motcua.web.forms import KEY_PATTERN, english
from motcua.web.package_forms import FORMS, PackageForm
from motcua.web.portal import SESSION_KEY, session_level

OFFER_PARAM = "de-nghi"  # ?de-nghi=<offer id>: the proactive offer the form starts from


def _draft_code(kind: str) -> str:
    return f"package:{kind}"


def _procedure_codes(rule: Any) -> list[str]:
    return list(dict.fromkeys(code for step in rule.steps for code in step.procedures.values()))


def _procedure_name(code: str) -> str:
    procedure = catalog.procedure_current(code)
    return procedure.name_en if english() and procedure.name_en else procedure.name


def _level_checked(request: HttpRequest, rule: Any) -> tuple[int, HttpResponseBase | None]:
    """The highest e-ID level any procedure of the group asks for; below it, the step-up."""
    codes = _procedure_codes(rule)
    needed = max(catalog.procedure_current(code).min_eid_level for code in codes)
    level = session_level(request.session.get(SESSION_KEY))
    return level, (_level_too_low(request, codes[0], needed) if level < needed else None)


# --- what the state already knows ----------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """The registry's facts the birth form shows instead of asking: (label, value) rows, and
    why the package cannot be used by this applicant, if it cannot."""

    rows: list[tuple[str, str]]
    blocked: str


def _person(pin: str, names: dict[str, str]) -> str:
    if not pin:
        return _("Chưa ghi nhận")
    name = names.get(pin)
    return _("%(name)s (số định danh %(pin)s)") % {"name": name, "pin": pin} if name else pin


def _birth_facts(actor: Actor) -> Facts:
    """The applicant's own record and household: the parents, the household the child joins
    and its address. As dossiers.packages derives them."""
    assert actor.pin is not None
    record = registry.citizen_get(
        actor=actor,
        pin=actor.pin,
        purpose=gettext_noop("Nộp hồ sơ liên thông khai sinh: thông tin đã có"),
    )
    household = (
        registry.household_of(
            actor=actor,
            pin=actor.pin,
            purpose=gettext_noop("Nộp hồ sơ liên thông khai sinh: hộ gia đình của trẻ"),
        )
        if record.household_id is not None
        else None
    )
    names = {m.pin: m.full_name for m in household.members} if household else {}
    names[record.pin] = record.full_name
    mother, father = (
        (record.pin, record.spouse_pin) if record.sex == "F" else (record.spouse_pin, record.pin)
    )
    rows = [(_("Mẹ"), _person(mother, names)), (_("Cha"), _person(father, names))]
    blocked = ""
    if household is not None:
        head = next((m for m in household.members if m.relation == "head"), None)
        rows.append((_("Chủ hộ nơi trẻ đăng ký thường trú"), head.full_name if head else "—"))
        rows.append(
            (
                _("Địa chỉ thường trú của trẻ"),
                _("%(address)s, %(ward)s")
                % {"address": household.address, "ward": household.ward_name},
            )
        )
    else:
        blocked = _(
            "Cơ sở dữ liệu quốc gia về dân cư chưa ghi nhận bạn thường trú trong một hộ gia đình, "
            "nên chưa thể đăng ký thường trú cho trẻ theo hộ của bạn. Hãy nộp riêng thủ tục "
            "đăng ký khai sinh."
        )
    rows.append((_("Dân tộc của trẻ (theo cha hoặc mẹ)"), record.ethnicity or "—"))
    rows.append((_("Quê quán của trẻ (theo cha hoặc mẹ)"), record.hometown_name or "—"))
    if not mother:
        blocked = _(
            "Cơ sở dữ liệu quốc gia về dân cư chưa ghi nhận vợ của bạn: người mẹ hãy nộp hồ sơ "
            "liên thông, hoặc nộp riêng thủ tục đăng ký khai sinh."
        )
    return Facts(rows=rows, blocked=blocked)


def _facts(actor: Actor, kind: str) -> Facts | None:
    return _birth_facts(actor) if kind == "birth" else None


# --- the form ------------------------------------------------------------------------------------


def _form(
    kind: str,
    rule: Any,
    data: QueryDict | None,
    held: dict[str, HeldFile],
    initial: dict[str, Any] | None = None,
) -> PackageForm:
    form_class = FORMS[kind]
    extra: dict[str, Any] = {"max_age_months": rule.max_age_months} if kind == "birth" else {}
    return form_class(data, held=held, initial=initial or {}, **extra)


def _offer_initial(actor: Actor, request: HttpRequest) -> dict[str, Any]:
    """The values a proactive offer brings to the death form (the deceased, the steps), and its
    idempotency key, so that the package it files is the offer's."""
    raw = request.GET.get(OFFER_PARAM, "")
    if not raw.isdigit():
        return {}
    offer = dossiers.offer_get(actor=actor, offer_id=int(raw))
    prefill = dict(offer.prefill)
    initial: dict[str, Any] = {"idempotency_key": offer.idempotency_key}
    pin = prefill.get("nguoi_chet_pin") or offer.subject_pin
    if pin:
        initial["nguoi_chet_pin"] = pin
    for name in ("nguoi_chet_ho_ten", "noi_chet", "nguyen_nhan_chet", "quan_he", "steps"):
        if prefill.get(name):
            initial[name] = prefill[name]
    if prefill.get("ngay_chet"):
        with contextlib.suppress(ValueError):
            initial["ngay_chet"] = date.fromisoformat(str(prefill["ngay_chet"]))
    return initial


def _steps_told(rule: Any, chosen: set[str] | None = None) -> list[str]:
    """The group's procedures in order, by name (those chosen, if the draft says)."""
    return [
        _procedure_name(next(iter(step.procedures.values())))
        for step in rule.steps
        if chosen is None or step.choice in chosen
    ]


def _start_page(
    request: HttpRequest,
    actor: Actor,
    kind: str,
    rule: Any,
    form: PackageForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "kind": kind,
        "rule": rule,
        "kind_label": _kind_label(kind),
        "form": form,
        "facts": _facts(actor, kind),
        "steps": _steps_told(rule),
    }
    return _page(request, "web/package_start.html", context, status)


def _kind_label(kind: str) -> str:
    return {
        "birth": _("Nộp liên thông khai sinh – thường trú – thẻ BHYT"),
        "death": _("Nộp liên thông khai tử – xóa thường trú – trợ cấp mai táng, tử tuất"),
    }[kind]


@citizen_required
def package_start_view(request: HttpRequest, actor: Actor, kind: str) -> HttpResponseBase:
    """The package's one form. Sent, it is checked in one pass (the form's rules, then the
    package's own through the dossiers services); the files sent are kept whatever else is
    wrong; a form without errors leads to check your answers."""
    rule = services.package_rule(kind)  # an unknown group: not found
    _level, refused = _level_checked(request, rule)
    if refused is not None:
        return refused
    if request.method == "POST":
        return _start_posted(request, actor, kind, rule)
    key = request.GET.get(DRAFT_PARAM, "")
    draft = _draft(request, key, _draft_code(kind))
    if draft is not None and draft.get("package"):
        return redirect("package_submitted", package_id=draft["package"])
    if draft is not None:
        form = _form(kind, rule, _query_dict(draft["data"]), _claimed(request, draft["held"]))
        form.is_valid()
    else:
        initial = _offer_initial(actor, request) if kind == "death" else {}
        form = _form(kind, rule, None, {}, initial)
    return _start_page(request, actor, kind, rule, form)


def _start_posted(request: HttpRequest, actor: Actor, kind: str, rule: Any) -> HttpResponseBase:
    key = request.POST.get("idempotency_key", "")
    if not KEY_PATTERN.match(key):
        key = uuid.uuid4().hex
    earlier = _drafts(request).get(key) or {}
    if earlier.get("package"):  # back to the form after filing, and sent again: the same package
        return redirect("package_submitted", package_id=earlier["package"])
    data = request.POST.copy()
    data["idempotency_key"] = key
    held, refused = _held_uploads(request, {f"file_{c}" for c in FORMS[kind].uploads})
    form = _form(kind, rule, data, held)
    form.is_valid()
    for name, message in refused.items():
        form.errors[name] = form.error_class([message])
    _service_errors_onto(form, actor, kind, key, held)
    if form.errors:
        return _start_page(request, actor, kind, rule, form, status=422)
    _draft_save(
        request,
        key,
        {
            "procedure": _draft_code(kind),
            "data": {
                name: items
                for name, items in data.lists()
                if name != "csrfmiddlewaretoken" and not name.startswith(HELD_PREFIX)
            },
            "held": {name: h.token for name, h in held.items()},
            "declaration": form.declaration(),
            "steps": list(form.chosen_steps()),
        },
    )
    return redirect(f"{reverse('package_check', args=[kind])}?{DRAFT_PARAM}={key}")


def _submission(
    kind: str, key: str, held: dict[str, HeldFile], declaration: dict[str, Any], steps: Any
) -> services.PackageSubmission:
    return services.PackageSubmission(
        kind=kind,
        declaration=declaration,
        steps=tuple(steps),
        idempotency_key=key,
        files={name.removeprefix("file_"): held_open(h) for name, h in held.items()},
    )


def _service_errors_onto(
    form: PackageForm, actor: Actor, kind: str, key: str, held: dict[str, HeldFile]
) -> None:
    """The package's verdict on whatever passed the form's checks, beside the form's own: a
    field the form already found wrong keeps the form's message."""
    submission = _submission(kind, key, held, form.declaration(), form.chosen_steps())
    try:
        services.package_submission_check(actor=actor, submission=submission)
    except ValidationFailed as error:
        _errors_onto(form, error)


def _errors_onto(form: PackageForm, error: DomainError) -> None:
    if not error.errors:
        errors_onto(form, error)
    for key, message in error.errors.items():
        name = form.field_for(key)
        if name is not None and name in form.errors:
            continue
        if key == "idempotency_key":
            continue
        if name is None and message in form.non_field_errors():
            continue
        form.add_error(name, message)


# --- check your answers and filing ----------------------------------------------------------------


@citizen_required
def package_check_view(request: HttpRequest, actor: Actor, kind: str) -> HttpResponseBase:
    """Every answer with a link back to change it, and what the registry fills in; the button
    files the package. The draft's key makes filing idempotent: sent twice, it is one package."""
    rule = services.package_rule(kind)
    level, refused = _level_checked(request, rule)
    if refused is not None:
        return refused
    key = (request.POST if request.method == "POST" else request.GET).get(DRAFT_PARAM, "")
    draft = _draft(request, key, _draft_code(kind))
    form_url = reverse("package_start", args=[kind])
    if draft is None:
        messages.warning(request, _("Phiên khai hồ sơ đã hết hạn, vui lòng khai lại."))
        return redirect(form_url)
    if draft.get("package"):
        return redirect("package_submitted", package_id=draft["package"])
    held = _claimed(request, draft["held"])
    change_url = f"{form_url}?{DRAFT_PARAM}={key}"
    if len(held) < len(draft["held"]):
        messages.warning(
            request, _("Tệp đã tải lên quá một giờ nên không còn được giữ; hãy chọn lại tệp.")
        )
        return redirect(change_url)
    if request.method == "POST":
        try:
            filed = services.package_submit(
                actor=actor,
                submission=_submission(kind, key, held, draft["declaration"], draft["steps"]),
                eid_level=level,
            )
        except ValidationFailed as error:
            form = _form(kind, rule, _query_dict(draft["data"]), held)
            form.is_valid()
            _errors_onto(form, error)
            return _start_page(request, actor, kind, rule, form, status=422)
        for h in held.values():
            held_release(request.session, h.token)
        _draft_save(request, key, {**draft, "held": {}, "package": filed.id})
        if not filed.created:
            messages.info(request, _("Hồ sơ này đã được nộp trước đó; không tạo hồ sơ mới."))
        return redirect("package_submitted", package_id=filed.id)
    form = _form(kind, rule, None, held)
    chosen = set(draft["steps"])
    context = {
        "kind": kind,
        "kind_label": _kind_label(kind),
        "rule": rule,
        "answers": form.answers(draft),
        "facts": _facts(actor, kind),
        "steps": _steps_told(rule, chosen),
        "change_url": change_url,
        "key": key,
    }
    return _page(request, "web/package_check.html", context)


@citizen_required
def package_submitted_view(request: HttpRequest, actor: Actor, package_id: int) -> HttpResponse:
    """The confirmation: the package's code, its one appointment, each agency in turn."""
    package = dossiers.package_detail(actor=actor, package_id=package_id)
    return _page(request, "web/package_submitted.html", {"p": package})


# --- following a package ---------------------------------------------------------------------------


@citizen_required
def package_view(request: HttpRequest, actor: Actor, package_id: int) -> HttpResponse:
    """The steps in order: agency, where each stands, its deadline, its dossier; the step that
    failed and why, and the steps stopped because of it."""
    package = dossiers.package_detail(actor=actor, package_id=package_id)
    failed = package.failed_step
    stopped = [s for s in package.steps if s.status == "stopped"]
    return _page(
        request,
        "web/package.html",
        {"p": package, "failed": failed, "stopped": stopped},
    )


class WithdrawPackageForm(forms.Form):
    """Only the button: a refusal by the service shows above it."""


@citizen_required
def package_withdraw_view(request: HttpRequest, actor: Actor, package_id: int) -> HttpResponseBase:
    """Asks before withdrawing: the steps not yet decided stop, those done keep their results."""
    package = dossiers.package_detail(actor=actor, package_id=package_id)
    if not package.open:
        return redirect("citizen_package", package_id=package_id)
    form = WithdrawPackageForm(request.POST or None)
    if request.method == "POST":
        try:
            services.package_withdraw(actor=actor, package_id=package_id)
        except ValidationFailed as error:
            errors_onto(form, error)
        else:
            messages.success(
                request, _("Đã rút hồ sơ liên thông %(code)s.") % {"code": package.code}
            )
            return redirect("citizen_package", package_id=package_id)
        return _page(request, "web/package_withdraw.html", {"p": package, "form": form}, status=422)
    return _page(request, "web/package_withdraw.html", {"p": package, "form": form})
