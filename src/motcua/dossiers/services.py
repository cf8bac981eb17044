"""Writes to dossiers: submission, every workflow step, the apology slip and the rating.

Each is one call that checks who may act, applies the procedure version's transition rule,
keeps the deadline, writes the timeline event and the audit row in one transaction, and tells
the citizen after commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog.selectors import (
    CITIZEN,
    AgencyView,
    ProcedureSnapshot,
    Role,
    Status,
    TransitionView,
    agency_get,
    official_roles,
    officials_of,
    procedure_current,
    version_get,
)
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.calendar import CIVIL_STATUS_CUTOFF, work_calendar
from motcua.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from motcua.core.sequences import sequence_next
from motcua.core.text import nfc
from motcua.core.uploads import CheckedFile, private_storage, upload_check, upload_store
from motcua.dossiers.declaration import declaration_check, declaration_people_errors, known_facts
from motcua.dossiers.effects import run_effects
from motcua.dossiers.models import FINISHED, Apology, Dossier, DossierEvent, DossierFile, Rating
from motcua.dossiers.notify import status_changed
from motcua.dossiers.papers import papers_needed
from motcua.dossiers.printouts import apology_pdf as apology_pdf  # the papers, on the face
from motcua.dossiers.printouts import receipt_pdf as receipt_pdf
from motcua.dossiers.printouts import result_pdf as result_pdf
from motcua.identity.selectors import contact_of
from motcua.registry.selectors import CitizenRecord, citizen_get

FILE_FOLDER = "dossiers"
MAX_NOTE = 2000


# --- submission ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    procedure_code: str
    agency_id: int
    declaration: dict[str, Any]
    idempotency_key: str
    files: Mapping[str, UploadedFile] = field(default_factory=dict)
    fee_exemption: str = ""


@dataclass(frozen=True)
class Submitted:
    id: int
    code: str
    due_on: date
    created: bool  # False when a retry found the dossier of the first try


def _citizen(actor: Actor) -> str:
    if actor.kind != "citizen" or not actor.pin:
        raise PermissionDenied(_("Chỉ công dân đã đăng nhập mới nộp hồ sơ"))
    return actor.pin


def _earlier(pin: str, key: str) -> Submitted | None:
    row = Dossier.objects.filter(applicant_pin=pin, idempotency_key=key).first()
    return Submitted(row.pk, row.code, row.due_on, created=False) if row else None


class LevelTooLow(PermissionDenied):
    """The citizen signed in at a lower e-ID level than the procedure asks for: sign in again
    at that level (step-up), or raise the account's level first."""

    code = "eid_level_too_low"

    def __init__(self, needed: int) -> None:
        self.needed = needed
        message = _("Thủ tục này cần đăng nhập bằng tài khoản định danh điện tử mức %(needed)s") % {
            "needed": needed
        }
        super().__init__(message, errors={"eid_level": message})


def dossier_submit(*, actor: Actor, submission: Submission, eid_level: int) -> Submitted:
    """File a dossier online. `eid_level` is the level of the citizen's sign-in (the acr of
    their id_token): below the procedure's minimum, nothing is filed. A retry with the same
    idempotency key returns the first dossier."""
    pin = _citizen(actor)
    key = submission.idempotency_key.strip()
    if not 8 <= len(key) <= 64:
        raise ValidationFailed({"idempotency_key": _("Khóa chống trùng 8-64 ký tự")})
    snapshot = procedure_current(submission.procedure_code)
    if eid_level < snapshot.min_eid_level:
        raise LevelTooLow(snapshot.min_eid_level)
    if earlier := _earlier(pin, key):
        return earlier
    record = citizen_get(
        actor=actor, pin=pin, purpose=gettext_noop("Nộp hồ sơ %(code)s") % {"code": snapshot.code}
    )
    checked = checked_submission(actor, snapshot, record, submission)
    stored = {
        code: upload_store(submission.files[code], c, folder=FILE_FOLDER)
        for code, c in checked.files.items()
    }
    try:
        return _file_dossier(actor, snapshot, record, key, checked, stored)
    except IntegrityError:
        # The same key raced in from another request: that one won, its dossier is the answer.
        _discard(stored.values())
        if earlier := _earlier(pin, key):
            return earlier
        raise
    except BaseException:
        _discard(stored.values())
        raise


def _discard(names: Any) -> None:
    storage = private_storage()
    for name in names:
        storage.delete(name)


@dataclass(frozen=True)
class Checked:
    """A submission that passed every check, as it will be filed."""

    agency: AgencyView
    declaration: dict[str, Any]
    fee: int
    exemption: str
    files: dict[str, CheckedFile]


def _agency_or_none(agency_id: int) -> AgencyView | None:
    try:
        return agency_get(agency_id)
    except NotFound:
        return None


def checked_submission(
    actor: Actor, snapshot: ProcedureSnapshot, record: CitizenRecord, submission: Submission
) -> Checked:
    """Everything about the submission that can be wrong, reported together, before any write."""
    errors: dict[str, str] = {}
    agency = _agency_or_none(submission.agency_id)
    if record.status != "living":
        errors["applicant"] = _("Người nộp đã được ghi nhận là đã mất")
    if agency is None:
        errors["agency_id"] = _("Chọn cơ quan giải quyết")
    elif agency.kind != snapshot.agency_kind:
        errors["agency_id"] = _("Cơ quan này không giải quyết thủ tục này")
    facts = known_facts(record, contact_of(record.pin))
    declaration, declaration_errors = declaration_check(
        snapshot.form_schema, submission.declaration, facts
    )
    errors.update(declaration_errors)
    people = {k: v for k, v in declaration.items() if f"declaration.{k}" not in errors}
    errors.update(
        declaration_people_errors(
            snapshot.form_schema,
            people,
            actor=actor,
            purpose=gettext_noop("Kiểm tra tờ khai hồ sơ %(code)s") % {"code": snapshot.code},
        )
    )
    fee, exemption, fee_errors = _fee(snapshot, record, declaration, submission.fee_exemption)
    errors.update(fee_errors)
    checked, file_errors = _checked_files(snapshot, record.pin, submission.files)
    errors.update(file_errors)
    if errors or agency is None:
        raise ValidationFailed(errors)
    return Checked(agency, declaration, fee, exemption, checked)


def _checked_files(
    snapshot: ProcedureSnapshot, pin: str, files: Mapping[str, UploadedFile]
) -> tuple[dict[str, CheckedFile], dict[str, str]]:
    needed = {p.component.code: p for p in papers_needed(snapshot, pin) if p.upload}
    errors: dict[str, str] = {}
    checked: dict[str, CheckedFile] = {}
    for code in files:
        if code not in needed:
            errors[f"file_{code}"] = _("Thành phần này không cần nộp")
    for code, paper in needed.items():
        if code in files:
            try:
                checked[code] = upload_check(files[code], field=f"file_{code}")
            except ValidationFailed as error:
                errors.update(error.errors)
        elif paper.component.required:
            errors[f"file_{code}"] = _("Cần tải lên giấy tờ này")
    return checked, errors


def _age(record: CitizenRecord, today: date) -> int | None:
    try:
        born = date.fromisoformat(record.birth_date)
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _exempt_by_rule(rule: dict[str, Any], age: int | None, declaration: dict[str, Any]) -> bool:
    """Automatic exemptions: by the applicant's age (bounds inclusive), or for registering within
    so many days of the event the declaration dates (an on-time birth or death)."""
    if rule.get("max_age") is not None and age is not None and age <= rule["max_age"]:
        return True
    if rule.get("min_age") is not None and age is not None and age >= rule["min_age"]:
        return True
    since = declaration.get(rule.get("since_field") or "")
    if since and rule.get("within_days") is not None:
        try:
            elapsed = (timezone.localdate() - date.fromisoformat(str(since))).days
        except ValueError:
            return False  # the declaration check reports the bad date
        return 0 <= elapsed <= rule["within_days"]
    return False


def _fee(
    snapshot: ProcedureSnapshot, record: CitizenRecord, declaration: dict[str, Any], claimed: str
) -> tuple[int, str, dict[str, str]]:
    """The fee due, and the exemption that waived it: one the citizen declared (checked later by
    the official) or one that applies by rule."""
    if not snapshot.fee:
        return 0, "", {}
    exemptions = {e["code"]: e for e in snapshot.fee_exemptions}
    if claimed:
        if claimed not in exemptions or not exemptions[claimed].get("declared"):
            return snapshot.fee, "", {"fee_exemption": _("Không có diện miễn này")}
        return 0, claimed, {}
    age = _age(record, timezone.localdate())
    for code, rule in exemptions.items():
        if not rule.get("declared") and _exempt_by_rule(rule, age, declaration):
            return 0, code, {}
    return snapshot.fee, "", {}


@transaction.atomic(durable=True)
def _file_dossier(
    actor: Actor,
    snapshot: ProcedureSnapshot,
    record: CitizenRecord,
    key: str,
    checked: Checked,
    stored: dict[str, str],
) -> Submitted:
    return dossier_create(actor, snapshot, record, key, checked, stored)


def dossier_create(
    actor: Actor,
    snapshot: ProcedureSnapshot,
    record: CitizenRecord,
    key: str,
    checked: Checked,
    stored: dict[str, str],
) -> Submitted:
    """Write a checked submission, in the caller's transaction (a linked package files its
    first steps in the same transaction as itself)."""
    now = timezone.now()
    agency = checked.agency
    day = timezone.localdate(now).strftime("%y%m%d")
    number = sequence_next(f"receipt:{agency.code}:{day}")
    cutoff = CIVIL_STATUS_CUTOFF if snapshot.civil_status else None
    dossier = Dossier.objects.create(
        code=f"{agency.code}-{day}-{number:04d}",
        procedure_version_id=snapshot.version_id,
        procedure_code=snapshot.code,
        agency_id=agency.id,
        applicant_pin=record.pin,
        applicant_name=record.full_name,
        status=Status.SUBMITTED,
        declaration=checked.declaration,
        fee=checked.fee,
        fee_exemption=checked.exemption,
        submitted_at=now,
        due_on=work_calendar().appointment(now, snapshot.days, cutoff=cutoff),
        idempotency_key=key,
    )
    _attach(dossier, checked.files, stored, purpose="submission", by=actor.label)
    _event(dossier, actor, action="submit", source="", target=Status.SUBMITTED, at=now)
    audit_record(
        actor=actor,
        action="dossier.submit",
        object_type="dossiers.dossier",
        object_id=dossier.code,
        after={"procedure": snapshot.code, "version": snapshot.number, "files": len(stored)},
    )
    transaction.on_commit(lambda: status_changed(dossier.pk))
    return Submitted(dossier.pk, dossier.code, dossier.due_on, created=True)


def _attach(
    dossier: Dossier,
    checked: dict[str, CheckedFile],
    stored: dict[str, str],
    *,
    purpose: str,
    by: str,
) -> None:
    DossierFile.objects.bulk_create(
        DossierFile(
            dossier=dossier,
            component=code,
            purpose=purpose,
            storage_name=stored[code],
            original_name=c.original_name,
            content_type=c.content_type,
            size=c.size,
            sha256=c.sha256,
            uploaded_by=by,
        )
        for code, c in checked.items()
    )


def _event(
    dossier: Dossier,
    actor: Actor,
    *,
    action: str,
    source: str,
    target: str,
    at: datetime,
    note: str = "",
) -> None:
    DossierEvent.objects.create(
        dossier=dossier,
        action=action,
        source=source,
        target=target,
        actor=actor.label,
        at=at,
        note=note,
    )


# --- workflow -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One workflow action on a dossier, as the actor saw it (`version`)."""

    dossier_id: int
    action: str
    version: int
    note: str = ""
    assignee: str = ""
    files: Mapping[str, UploadedFile] = field(default_factory=dict)


def is_overdue(dossier: Dossier, today: date) -> bool:
    """Past the appointment, not finished, and not waiting for the citizen (the clock stops)."""
    return (
        dossier.finished_at is None
        and dossier.status != Status.SUPPLEMENT_REQUESTED
        and today > dossier.due_on
    )


def _locked(actor: Actor, dossier_id: int, version: int) -> tuple[Dossier, frozenset[str]]:
    """The dossier, locked, with the actor's roles on it. Outsiders get NotFound before any
    other check, so that they learn nothing of its state."""
    dossier = Dossier.objects.select_for_update().filter(pk=dossier_id).first()
    roles = actor_roles(actor, dossier) if dossier else frozenset()
    if dossier is None or not roles:
        raise NotFound(_("Không có hồ sơ"))
    if dossier.version != version:
        raise Conflict(_("Hồ sơ vừa được người khác cập nhật; hãy tải lại trang"))
    return dossier, roles


def actor_roles(actor: Actor, dossier: Dossier) -> frozenset[str]:
    """The roles the actor holds on this dossier: the applicant, or an official of its agency."""
    if actor.kind == "citizen":
        return frozenset({CITIZEN}) if actor.pin == dossier.applicant_pin else frozenset()
    if actor.kind == "official":
        return official_roles(actor.ref).get(dossier.agency_id, frozenset())
    return frozenset()


def _allowed(
    actor: Actor, roles: frozenset[str], dossier: Dossier, transition: TransitionView
) -> None:
    if not roles & set(transition.roles):
        raise PermissionDenied(
            _("Vai trò của bạn không được '%(name)s'") % {"name": transition.name}
        )
    if transition.action == "start" and dossier.assignee and dossier.assignee != actor.ref:
        raise PermissionDenied(_("Hồ sơ được giao cho cán bộ khác"))


def _transition(snapshot: ProcedureSnapshot, dossier: Dossier, action: str) -> TransitionView:
    transition = snapshot.transition(action)
    if transition is None:
        raise ValidationFailed({"action": _("Quy trình không có bước này")})
    if dossier.status not in transition.sources:
        raise Conflict(
            _("Không thể '%(name)s' khi hồ sơ ở trạng thái này %(status)s")
            % {"name": transition.name, "status": dossier.status}
        )
    return transition


def dossier_act(*, actor: Actor, step: Step) -> Dossier:
    """Take one workflow step. Two officials acting on the same version: one wins, the other
    gets a conflict."""
    checked = _checked_step_files(step)
    stored = {
        code: upload_store(step.files[code], c, folder=FILE_FOLDER) for code, c in checked.items()
    }
    try:
        return _act(actor, step, checked, stored)
    except BaseException:
        _discard(stored.values())
        raise


def _checked_step_files(step: Step) -> dict[str, CheckedFile]:
    checked: dict[str, CheckedFile] = {}
    errors: dict[str, str] = {}
    for code, upload in step.files.items():
        try:
            checked[code] = upload_check(upload, field=f"file_{code}")
        except ValidationFailed as error:
            errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors)
    return checked


@transaction.atomic(durable=True)
def _act(
    actor: Actor, step: Step, checked: dict[str, CheckedFile], stored: dict[str, str]
) -> Dossier:
    dossier, roles = _locked(actor, step.dossier_id, step.version)
    snapshot = version_get(dossier.procedure_version_id)
    transition = _transition(snapshot, dossier, step.action)
    _allowed(actor, roles, dossier, transition)
    note = nfc(step.note)[:MAX_NOTE]
    _check_step(dossier, snapshot, transition, step, note, checked)
    now = timezone.now()
    # The decision's consequences in other apps' records, in this transaction: a refusal
    # refuses the step and nothing of it is written.
    ran = run_effects(actor=actor, dossier=dossier, transition=transition, now=now)
    before = {"status": dossier.status, "due_on": str(dossier.due_on), "assignee": dossier.assignee}
    _keep_deadline(dossier, transition, step, now)
    source, dossier.status = dossier.status, transition.target
    dossier.version += 1
    dossier.save()
    if checked:
        _attach(dossier, checked, stored, purpose="supplement", by=actor.label)
    _event(
        dossier,
        actor,
        action=transition.action,
        source=source,
        target=dossier.status,
        at=now,
        note=note,
    )
    audit_record(
        actor=actor,
        action=f"dossier.{transition.action}",
        object_type="dossiers.dossier",
        object_id=dossier.code,
        reason=note,
        before=before,
        after={
            "status": dossier.status,
            "due_on": str(dossier.due_on),
            "assignee": dossier.assignee,
        }
        | ({"effects": {e.name: e.outputs for e in ran}} if ran else {}),
    )
    transaction.on_commit(lambda: status_changed(dossier.pk))
    return dossier


def _check_step(
    dossier: Dossier,
    snapshot: ProcedureSnapshot,
    transition: TransitionView,
    step: Step,
    note: str,
    checked: dict[str, CheckedFile],
) -> None:
    errors: dict[str, str] = {}
    if transition.note_required and len(note) < 5:
        errors["note"] = _("Cần nêu rõ lý do hoặc nội dung")
    if transition.action == "assign" and step.assignee not in {
        username for username, _ in officials_of(dossier.agency_id, Role.PROCESSOR)
    }:
        errors["assignee"] = _("Chọn một cán bộ xử lý của cơ quan")
    if transition.action == "supplement":
        wanted = {
            p.component.code for p in papers_needed(snapshot, dossier.applicant_pin) if p.upload
        }
        if not checked:
            errors["files"] = _("Tải lên ít nhất một giấy tờ bổ sung")
        for code in checked:
            if code not in wanted:
                errors[f"file_{code}"] = _("Thành phần này không cần nộp")
    elif checked:
        errors["files"] = _("Bước này không nhận tệp")
    if errors:
        raise ValidationFailed(errors)
    if is_overdue(dossier, timezone.localdate()) and transition.action != "withdraw":
        raise Conflict(
            _("Hồ sơ đã quá hạn: cần lập phiếu xin lỗi và hẹn lại ngày trả kết quả trước")
        )


def _keep_deadline(dossier: Dossier, transition: TransitionView, step: Step, now: datetime) -> None:
    """The clock stops while the citizen supplements; a second request counts as late."""
    today = timezone.localdate(now)
    if transition.target == Status.SUPPLEMENT_REQUESTED:
        dossier.paused_on = today
        dossier.supplement_requests += 1
        dossier.late = dossier.late or dossier.supplement_requests > 1
    elif dossier.status == Status.SUPPLEMENT_REQUESTED and dossier.paused_on:
        calendar = work_calendar()
        waited = calendar.working_days_between(dossier.paused_on, today)
        dossier.due_on = calendar.add_working_days(dossier.due_on, waited)
        dossier.paused_on = None
    if transition.action == "assign":
        dossier.assignee = step.assignee
    if transition.target in FINISHED and dossier.finished_at is None:
        dossier.finished_at = now
        dossier.late = dossier.late or today > dossier.due_on
    if transition.target == Status.RESULT_ISSUED:
        dossier.result_code = f"{dossier.code}-KQ1"


# --- apology slip and rating --------------------------------------------------------------------

APOLOGY_ROLES = frozenset({Role.RECEIVER, Role.APPROVER})


@transaction.atomic(durable=True)
def dossier_apologize(
    *, actor: Actor, dossier_id: int, version: int, reason: str, new_due: date
) -> Apology:
    """The agency apologises for the delay and sets a new appointment; the dossier counts late."""
    dossier, roles = _locked(actor, dossier_id, version)
    if actor.kind != "official":
        raise NotFound(_("Không có hồ sơ"))
    if not roles & APOLOGY_ROLES:
        raise PermissionDenied(_("Chỉ bộ phận một cửa hoặc lãnh đạo"))
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if not is_overdue(dossier, today):
        errors["dossier"] = _("Hồ sơ chưa quá hạn")
    if len(nfc(reason)) < 10:
        errors["reason"] = _("Nêu rõ lý do chậm trễ")
    if new_due <= today or not work_calendar().is_working_day(new_due):
        errors["new_due"] = _("Ngày hẹn mới phải là ngày làm việc sau hôm nay")
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    apology = Apology.objects.create(
        dossier=dossier,
        previous_due=dossier.due_on,
        new_due=new_due,
        reason=nfc(reason)[:MAX_NOTE],
        issued_by=actor.label,
        issued_at=now,
    )
    before = {"due_on": str(dossier.due_on)}
    dossier.due_on, dossier.late = new_due, True
    dossier.version += 1
    dossier.save(update_fields=["due_on", "late", "version"])
    _event(
        dossier,
        actor,
        action="apologize",
        source=dossier.status,
        target=dossier.status,
        at=now,
        note=apology.reason,
    )
    audit_record(
        actor=actor,
        action="dossier.apologize",
        object_type="dossiers.dossier",
        object_id=dossier.code,
        reason=apology.reason,
        before=before,
        after={"due_on": str(new_due)},
    )
    transaction.on_commit(lambda: status_changed(dossier.pk))
    return apology


@transaction.atomic(durable=True)
def dossier_rate(*, actor: Actor, dossier_id: int, score: int, comment: str = "") -> Rating:
    """The applicant rates the service once, after the result is returned."""
    dossier = Dossier.objects.select_for_update().filter(pk=dossier_id).first()
    if dossier is None or actor.kind != "citizen" or actor.pin != dossier.applicant_pin:
        raise NotFound(_("Không có hồ sơ"))
    errors: dict[str, str] = {}
    if dossier.status != Status.RETURNED:
        errors["dossier"] = _("Chỉ đánh giá khi đã nhận kết quả")
    if not 1 <= score <= 5:
        errors["score"] = _("Chọn từ 1 đến 5")
    if errors:
        raise ValidationFailed(errors)
    if Rating.objects.filter(dossier=dossier).exists():
        raise Conflict(_("Hồ sơ này đã được đánh giá"))
    rating = Rating.objects.create(
        dossier=dossier, score=score, comment=nfc(comment)[:MAX_NOTE], at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="dossier.rate",
        object_type="dossiers.dossier",
        object_id=dossier.code,
        after={"score": score},
    )
    return rating


def dossier_submission_check(*, actor: Actor, submission: Submission) -> None:
    """Every reason `dossier_submit` would refuse this submission, field by field, in one
    ValidationFailed, without filing or storing anything: the portal shows them all together
    with its form's own, before the check-your-answers step."""
    pin = _citizen(actor)
    snapshot = procedure_current(submission.procedure_code)
    record = citizen_get(
        actor=actor, pin=pin, purpose=gettext_noop("Nộp hồ sơ %(code)s") % {"code": snapshot.code}
    )
    checked_submission(actor, snapshot, record, submission)


# --- linked packages and proactive offers: dossiers/packages.py and offers.py build on the above,
# so they are imported last ---------------------------------------------------------------------
from motcua.dossiers.offers import OfferAccepted as OfferAccepted  # noqa: E402
from motcua.dossiers.offers import offer_accept as offer_accept  # noqa: E402
from motcua.dossiers.offers import offer_decline as offer_decline  # noqa: E402
from motcua.dossiers.offers import offers_scan as offers_scan  # noqa: E402
from motcua.dossiers.packages import PackageFiled as PackageFiled  # noqa: E402
from motcua.dossiers.packages import PackageSubmission as PackageSubmission  # noqa: E402
from motcua.dossiers.packages import package_advance as package_advance  # noqa: E402
from motcua.dossiers.packages import package_plan as package_plan  # noqa: E402
from motcua.dossiers.packages import package_rule as package_rule  # noqa: E402
from motcua.dossiers.packages import package_submission_check as package_submission_check  # noqa: E402
from motcua.dossiers.packages import package_submit as package_submit  # noqa: E402
from motcua.dossiers.packages import package_wakes_on as package_wakes_on  # noqa: E402
from motcua.dossiers.packages import package_withdraw as package_withdraw  # noqa: E402
from motcua.dossiers.packages import packages_sweep as packages_sweep  # noqa: E402
