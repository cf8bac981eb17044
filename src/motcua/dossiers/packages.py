"""Linked procedures (thủ tục liên thông, Decree 63/2024): one submission by the citizen that fans
out into one dossier per agency, run as a saga on the background queue.

Each step is an ordinary dossier in its own agency's queue, with its own deadline inside the
group's one appointment. A step is filed once the step it needs has its result (the birth
registration's new PIN feeds the residence and health-insurance steps). `package_advance` looks
at the steps' dossiers, records what happened and files what is ready; it is safe to run any
number of times, at once or after a crash: a step's dossier is filed under an idempotency key of
its own, so a retry finds the dossier of the first try instead of filing a second one. A refused
step stops the steps that need it; the others run on."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from motcua.benefits.selectors import recipient_of
from motcua.catalog.selectors import ProcedureSnapshot, Status, agency_serving, procedure_current
from motcua.core.actors import SYSTEM, Actor
from motcua.core.audit import audit_record
from motcua.core.calendar import CIVIL_STATUS_CUTOFF, work_calendar
from motcua.core.errors import NotFound, ValidationFailed
from motcua.core.sequences import sequence_next
from motcua.core.text import nfc
from motcua.core.uploads import private_storage, upload_check, upload_store
from motcua.dossiers.models import (
    Dossier,
    DossierEffect,
    DossierEvent,
    Package,
    PackageKind,
    PackageStatus,
    PackageStep,
    StepStatus,
)
from motcua.dossiers.services import (
    FILE_FOLDER,
    Checked,
    LevelTooLow,
    Step,
    Submission,
    _citizen,
    checked_submission,
    dossier_act,
    dossier_create,
    dossier_submit,
)
from motcua.insurance.selectors import insurance_standing
from motcua.registry.selectors import CitizenRecord, citizen_get, household_of

RULES_FILE = Path(__file__).parent / "data" / "packages.json"
# Why the applicant's own record is read, as their access log shows it.
SUBMIT_PURPOSES = {
    "birth": gettext_noop("Nộp hồ sơ liên thông khai sinh"),
    "death": gettext_noop("Nộp hồ sơ liên thông khai tử"),
}
DONE = (Status.RESULT_ISSUED, Status.RETURNED)
REFUSED = (Status.REJECTED, Status.NOT_RECEIVED, Status.WITHDRAWN)
OPEN = (StepStatus.WAITING, StepStatus.FILED)


# --- the groups, as data --------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRule:
    position: int
    choice: str
    # The procedure by who the person concerned is ("any", or a standing: "insured",
    # "pensioner", "assistance"): the benefit step goes to social insurance or to social
    # assistance by who the deceased was.
    procedures: dict[str, str]
    after: int | None
    days: int  # working days from the package's submission


@dataclass(frozen=True)
class PackageRule:
    kind: str
    legal_basis: str
    group_days: int
    supplement_days: int
    max_age_months: int | None
    min_choices: int
    steps: tuple[StepRule, ...]

    def step(self, choice: str) -> StepRule | None:
        return next((s for s in self.steps if s.choice == choice), None)


@lru_cache(maxsize=1)
def package_rules() -> dict[str, PackageRule]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return {
        p["kind"]: PackageRule(
            kind=p["kind"],
            legal_basis=p["legal_basis"],
            group_days=p["group_days"],
            supplement_days=p["supplement_days"],
            max_age_months=p["max_age_months"],
            min_choices=p["min_choices"],
            steps=tuple(
                StepRule(s["position"], s["choice"], s["procedure"], s["after"], s["days"])
                for s in p["steps"]
            ),
        )
        for p in data["packages"]
    }


def package_rule(kind: str) -> PackageRule:
    rule = package_rules().get(kind)
    if rule is None:
        raise NotFound(_("Không có nhóm thủ tục liên thông này"))
    return rule


# --- submission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageSubmission:
    kind: str
    declaration: dict[str, Any]
    steps: tuple[str, ...]  # the steps the citizen chose (their `choice` names)
    idempotency_key: str
    files: Mapping[str, UploadedFile] = field(default_factory=dict)


@dataclass(frozen=True)
class PackageFiled:
    id: int
    code: str
    due_on: date
    created: bool  # False when a retry found the package of the first try


@dataclass(frozen=True)
class PlannedStep:
    rule: StepRule
    procedure: ProcedureSnapshot
    declaration: dict[str, Any]
    agency_id: int | None  # the agency serving where the applicant lives, when it was filed
    files: tuple[str, ...]  # the package's uploads this step's procedure takes


def _earlier(pin: str, key: str) -> PackageFiled | None:
    row = Package.objects.filter(applicant_pin=pin, idempotency_key=key).first()
    return PackageFiled(row.pk, row.code, row.due_on, created=False) if row else None


def package_submit(*, actor: Actor, submission: PackageSubmission, eid_level: int) -> PackageFiled:
    """File a linked package. Everything the citizen can be told now is checked now, all at
    once; the first steps' dossiers are filed with the package in one transaction (checked
    once, as `dossier_submit` checks), the later ones by the saga when the results they need
    are issued. A retry with the same idempotency key returns the first package."""
    pin = _citizen(actor)
    key = submission.idempotency_key.strip()
    if not 8 <= len(key) <= 64:
        raise ValidationFailed({"idempotency_key": _("Khóa chống trùng 8-64 ký tự")})
    rule = package_rule(submission.kind)
    if earlier := _earlier(pin, key):
        return earlier
    record = citizen_get(actor=actor, pin=pin, purpose=SUBMIT_PURPOSES[rule.kind])
    plan = package_plan(actor=actor, rule=rule, record=record, submission=submission)
    needed = max(p.procedure.min_eid_level for p in plan)
    if eid_level < needed:
        raise LevelTooLow(needed)
    checked = _checked_first_steps(actor, record, plan, submission)
    stored = _store_checked(submission.files, checked)
    try:
        return _file_package(actor, rule, record, key, plan, submission, checked, stored, eid_level)
    except IntegrityError:
        _discard(stored)
        if earlier := _earlier(pin, key):
            return earlier
        raise
    except BaseException:
        _discard(stored)
        raise


def package_submission_check(*, actor: Actor, submission: PackageSubmission) -> None:
    """Every reason `package_submit` would refuse this package, field by field, in one
    ValidationFailed, without filing or storing anything (the form's one-pass validation)."""
    pin = _citizen(actor)
    rule = package_rule(submission.kind)
    record = citizen_get(actor=actor, pin=pin, purpose=SUBMIT_PURPOSES[rule.kind])
    plan = package_plan(actor=actor, rule=rule, record=record, submission=submission)
    _checked_first_steps(actor, record, plan, submission)


def _chosen(rule: PackageRule, chosen: tuple[str, ...]) -> list[StepRule]:
    if rule.min_choices == len(rule.steps):
        return list(rule.steps)
    unknown = [c for c in chosen if rule.step(c) is None]
    steps = [s for s in rule.steps if s.choice in chosen]
    if unknown or len(steps) < rule.min_choices:
        raise ValidationFailed(
            {"steps": _("Chọn ít nhất %(n)s thủ tục của nhóm") % {"n": rule.min_choices}}
        )
    return steps


def package_plan(
    *, actor: Actor, rule: PackageRule, record: CitizenRecord, submission: PackageSubmission
) -> list[PlannedStep]:
    """Each chosen step with its procedure and its declaration, from what the citizen typed
    and what the registry already holds."""
    steps = _chosen(rule, submission.steps)
    typed = {k: nfc(v) if isinstance(v, str) else v for k, v in submission.declaration.items()}
    if rule.kind == "birth":
        shared = _birth_facts(actor, record, typed)
    else:
        shared = _death_facts(record, typed, {s.choice for s in steps})
    standing = shared.pop("_standing", "any")
    errors: dict[str, str] = {}
    plan = []
    for step in steps:
        code = step.procedures.get("any") or step.procedures.get(standing)
        if code is None:
            errors[f"steps.{step.choice}"] = _no_benefit_message()
            continue
        procedure = procedure_current(code)
        plan.append(
            PlannedStep(
                rule=step,
                procedure=procedure,
                declaration=_step_declaration(step.choice, shared),
                agency_id=_agency_for(procedure.agency_kind, record),
                files=tuple(c.code for c in procedure.components if c.source == "upload"),
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return plan


def _no_benefit_message() -> str:
    return _(
        "Người mất không tham gia bảo hiểm xã hội, không hưởng lương hưu và không là đối "
        "tượng bảo trợ xã hội: không có trợ cấp mai táng hay tử tuất để đề nghị"
    )


def _birth_facts(actor: Actor, record: CitizenRecord, typed: dict[str, Any]) -> dict[str, Any]:
    """The parents, their household and its address come from the registry: the parent types
    only the child's name, sex, date and place of birth."""
    mother, father = (record.pin, record.spouse_pin) if record.sex == "F" else ("", record.pin)
    if record.sex == "M":
        mother = record.spouse_pin
    if not mother:
        raise ValidationFailed(
            {
                "applicant": _(
                    "Cơ sở dữ liệu chưa ghi nhận vợ của bạn: người mẹ hãy nộp hồ sơ liên thông, "
                    "hoặc nộp riêng thủ tục đăng ký khai sinh"
                )
            }
        )
    household = household_of(
        actor=actor,
        pin=record.pin,
        purpose=gettext_noop("Nộp hồ sơ liên thông khai sinh: hộ gia đình của trẻ"),
    )
    head = next((m for m in household.members if m.relation == "head"), None)
    return {
        **typed,
        "me_pin": mother,
        "cha_pin": father,
        "dan_toc": record.ethnicity,
        "que_quan": record.hometown_name,
        "parent_relation": "me" if record.sex == "F" else "cha",
        "dia_chi_thuong_tru_moi": f"{household.address}, {household.ward_name}",
        "chu_ho_pin": head.pin if head else record.pin,
        "quan_he_voi_chu_ho": _CHILD_OF_MEMBER.get(record.relation_to_head or "", "khac"),
        "ho_gia_dinh_id": household.id,
        # The ward's health station unless the parent chose another initial-care facility.
        "noi_kcb_ban_dau": typed.get("noi_kcb_ban_dau")
        or _("Trạm Y tế %(ward)s") % {"ward": household.ward_name},
    }


# How a newborn stands to the head of the household by how the parent does.
_CHILD_OF_MEMBER = {"head": "con", "spouse": "con", "child": "chau", "grandchild": "khac"}


def _death_facts(record: CitizenRecord, typed: dict[str, Any], chosen: set[str]) -> dict[str, Any]:
    """Who the deceased was for social insurance or social assistance comes from those
    sectors' records, and the applicant is the family's representative for a survivor benefit
    (QĐ 1449/QĐ-BHXH): the family types only the death and where to pay."""
    pin = typed.get("nguoi_chet_pin", "")
    standing: str | None = None
    if isinstance(pin, str) and pin and chosen & {"funeral", "survivor"}:
        recipient = recipient_of(pin)
        assisted = recipient is not None and recipient.receiving
        standing = insurance_standing(pin) or ("assistance" if assisted else None)
    return {
        **typed,
        "dien_nguoi_chet": _INSURED_AS.get(standing or "", ""),
        "dai_dien_than_nhan": record.full_name,
        "_standing": standing or "none",
    }


# The funeral and survivor forms' words for who the deceased was.
_INSURED_AS = {"pensioner": "dang_huong_luong_huu", "insured": "dang_dong_bhxh"}


def _step_declaration(choice: str, shared: dict[str, Any]) -> dict[str, Any]:
    """The step's own declaration: the shared values under the names its form uses (each
    procedure's schema keeps the fields it knows), plus what differs per step."""
    values = {k: v for k, v in shared.items() if not k.startswith("_")}
    relation = shared.get("quan_he", "")
    extra: dict[str, Any] = {
        "birth": {"quan_he_nguoi_yeu_cau": shared.get("parent_relation", "")},
        "residence": {"truong_hop": "ve_o_voi_nguoi_than"},
        "health_card": {"quan_he": shared.get("parent_relation", ""), "hinh_thuc_nhan": "dien_tu"},
        "residence_delete": {
            "nguoi_bi_xoa_pin": shared.get("nguoi_chet_pin", ""),
            "ly_do": "chet_mat_tich",
            "ngay_phat_sinh": shared.get("ngay_chet", ""),
            "quan_he": _DELETION_RELATION.get(relation, "thanh_vien_ho_khac"),
        },
    }.get(choice, {})
    return {**values, **extra}


_DELETION_RELATION = {"vo_chong": "vo_chong", "con": "con", "cha_me": "cha_me"}


def _checked_first_steps(
    actor: Actor, record: CitizenRecord, plan: list[PlannedStep], submission: PackageSubmission
) -> dict[int, Checked]:
    """The steps filed with the package, each checked exactly as `dossier_submit` checks a
    dossier, all errors together; the later steps need an earlier result and are checked when
    the saga files them."""
    errors: dict[str, str] = {}
    checked: dict[int, Checked] = {}
    for planned in plan:
        if planned.rule.after is not None and _in_plan(plan, planned.rule.after):
            continue
        if planned.agency_id is None:
            errors[f"steps.{planned.rule.choice}"] = _(
                "Chưa có cơ quan giải quyết thủ tục này nơi bạn cư trú"
            )
            continue
        try:
            checked[planned.rule.position] = checked_submission(
                actor,
                planned.procedure,
                record,
                Submission(
                    procedure_code=planned.procedure.code,
                    agency_id=planned.agency_id,
                    declaration=planned.declaration,
                    idempotency_key=submission.idempotency_key,
                    files={c: f for c, f in submission.files.items() if c in planned.files},
                ),
            )
        except ValidationFailed as error:
            errors.update({k: v for k, v in error.errors.items() if k not in errors})
    if errors:
        raise ValidationFailed(errors)
    return checked


def _in_plan(plan: list[PlannedStep], position: int) -> bool:
    return any(p.rule.position == position for p in plan)


def _agency_for(kind: str, record: CitizenRecord) -> int | None:
    """The agency of this kind serving where the applicant lives (permanently, else
    temporarily)."""
    today = timezone.localdate()
    for residence_kind in ("permanent", "temporary"):
        wards = [
            r.ward
            for r in record.residences
            if r.kind == residence_kind and (r.valid_to is None or r.valid_to >= today)
        ]
        if wards and (agency := agency_serving(kind, wards)) is not None:
            return agency.id
    return None


@dataclass(frozen=True)
class Stored:
    """What the package's uploads became in the private storage: each first step's files
    (dossier_create attaches them), and those a later step takes, held until it is filed."""

    steps: dict[int, dict[str, str]]
    held: dict[str, dict[str, Any]]

    def names(self) -> list[str]:
        return [n for files in self.steps.values() for n in files.values()] + [
            h["storage_name"] for h in self.held.values()
        ]


def _store_checked(files: Mapping[str, UploadedFile], checked: dict[int, Checked]) -> Stored:
    steps = {
        position: {
            code: upload_store(files[code], c, folder=FILE_FOLDER) for code, c in ok.files.items()
        }
        for position, ok in checked.items()
    }
    taken = {code for ok in checked.values() for code in ok.files}
    held = {}
    for code, upload in files.items():
        if code in taken:
            continue
        c = upload_check(upload, field=f"file_{code}")
        held[code] = {
            "storage_name": upload_store(upload, c, folder=FILE_FOLDER),
            "original_name": c.original_name,
            "content_type": c.content_type,
            "size": c.size,
        }
    return Stored(steps, held)


def _discard(stored: Stored) -> None:
    storage = private_storage()
    for name in stored.names():
        storage.delete(name)


@transaction.atomic(durable=True)
def _file_package(
    actor: Actor,
    rule: PackageRule,
    record: CitizenRecord,
    key: str,
    plan: list[PlannedStep],
    submission: PackageSubmission,
    checked: dict[int, Checked],
    stored: Stored,
    eid_level: int,
) -> PackageFiled:
    now = timezone.now()
    day = timezone.localdate(now).strftime("%y%m%d")
    number = sequence_next(f"package:{day}")
    chosen = {p.rule.position for p in plan}
    package = Package.objects.create(
        code=f"LT-{day}-{number:05d}",
        kind=rule.kind,
        applicant_pin=record.pin,
        applicant_name=record.full_name,
        declaration={
            "typed": submission.declaration,
            "steps": {str(p.rule.position): p.declaration for p in plan},
            # Where each step goes and which uploads it takes, fixed at submission: the
            # package is the applicant's at the place they lived when they filed it.
            "agencies": {str(p.rule.position): p.agency_id for p in plan},
            "files": {str(p.rule.position): list(p.files) for p in plan},
        },
        submitted_at=now,
        due_on=work_calendar().appointment(now, rule.group_days, cutoff=CIVIL_STATUS_CUTOFF),
        idempotency_key=key,
        eid_level=eid_level,
        files=stored.held,
    )
    applicant = Actor(kind="citizen", ref=record.pin, pin=record.pin)
    steps = []
    for p in plan:
        position = p.rule.position
        step = PackageStep(
            package=package,
            position=position,
            procedure_code=p.procedure.code,
            after=p.rule.after if p.rule.after in chosen else None,
            days=p.rule.days,
        )
        if position in checked:
            filed = dossier_create(
                applicant,
                p.procedure,
                record,
                f"{package.code}.{position}",
                checked[position],
                stored.steps[position],
            )
            step.dossier_id, step.status = filed.id, StepStatus.FILED
            _keep_in_group(filed.id, timezone.localdate(now), package, step)
        steps.append(step)
    PackageStep.objects.bulk_create(steps)
    audit_record(
        actor=actor,
        action="package.submit",
        object_type="dossiers.package",
        object_id=package.code,
        after={"kind": rule.kind, "steps": [p.procedure.code for p in plan]},
    )
    return PackageFiled(package.pk, package.code, package.due_on, created=True)


# --- the saga -------------------------------------------------------------------------------------


def package_wakes_on(status: str) -> bool:
    """Whether a step's dossier reaching `status` can move its package on: only its result
    or its refusal can (the steps in between concern its agency alone)."""
    return status in DONE or status in REFUSED


def package_enqueue(package_id: int) -> None:
    """Hand the package to the background worker; a run already waiting will see the news."""
    from procrastinate.exceptions import AlreadyEnqueued

    from motcua.dossiers.tasks import package_advance_task as task

    with contextlib.suppress(AlreadyEnqueued):
        task.configure(queueing_lock=f"package-{package_id}").defer(package_id=package_id)


def package_advance(package_id: int) -> None:
    """Record what each step's dossier came to and file every step that is ready, until
    nothing changes. Safe to run again at any moment."""
    while ready := _settle(package_id):
        filed = [_file_step(step_id) for step_id in ready]
        if all(filed):
            return  # a step just filed waits for its agency: nothing else can change now


@transaction.atomic(durable=True)
def _settle(package_id: int) -> list[int]:
    package = Package.objects.select_for_update().filter(pk=package_id).first()
    if package is None or package.status != PackageStatus.RUNNING:
        return []
    steps = list(package.steps.select_related("dossier").order_by("position"))
    by_position = {s.position: s for s in steps}
    for step in steps:
        status, reason = _observed(step, by_position)
        if (status, reason) != (step.status, step.reason):
            step.status, step.reason = status, reason
            step.save(update_fields=["status", "reason"])
    ready = [
        s.pk
        for s in steps
        if s.status == StepStatus.WAITING
        and s.dossier_id is None
        and (s.after is None or by_position[s.after].status == StepStatus.DONE)
    ]
    if not ready and all(s.status not in OPEN for s in steps):
        _finish(package, steps)
    return ready


def _observed(step: PackageStep, by_position: dict[int, PackageStep]) -> tuple[str, str]:
    if step.dossier is not None:
        if step.dossier.status in DONE:
            return StepStatus.DONE, ""
        if step.dossier.status in REFUSED:
            return StepStatus.REFUSED, _refusal_note(step.dossier)
        return StepStatus.FILED, ""
    if step.status == StepStatus.REFUSED:
        return step.status, step.reason  # refused when it was to be filed
    needed = by_position.get(step.after) if step.after else None
    if needed is not None and needed.status in (StepStatus.REFUSED, StepStatus.STOPPED):
        return StepStatus.STOPPED, ""
    return StepStatus.WAITING, ""


def _refusal_note(dossier: Dossier) -> str:
    event = DossierEvent.objects.filter(dossier=dossier).order_by("-at", "-id").first()
    return event.note if event else ""


def _finish(package: Package, steps: list[PackageStep]) -> None:
    done = all(s.status == StepStatus.DONE for s in steps)
    package.status = PackageStatus.COMPLETED if done else PackageStatus.STOPPED
    package.finished_at = timezone.now()
    package.save(update_fields=["status", "finished_at"])
    audit_record(
        actor=SYSTEM,
        action=f"package.{package.status}",
        object_type="dossiers.package",
        object_id=package.code,
        after={"steps": {s.position: s.status for s in steps}},
    )


def _file_step(step_id: int) -> bool:
    """File the step's dossier; False when it was refused (what depends on it stops)."""
    step = PackageStep.objects.select_related("package").get(pk=step_id)
    if step.dossier_id is not None or step.status != StepStatus.WAITING:
        return True
    package = step.package
    applicant = Actor(kind="citizen", ref=package.applicant_pin, pin=package.applicant_pin)
    position = str(step.position)
    try:
        declaration = _with_results(package, step)
        agency = package.declaration["agencies"][position]
        if agency is None:
            raise ValidationFailed(
                {"agency_id": _("Chưa có cơ quan giải quyết thủ tục này nơi bạn cư trú")}
            )
        filed = dossier_submit(
            actor=applicant,
            submission=Submission(
                procedure_code=step.procedure_code,
                agency_id=agency,
                declaration=declaration,
                idempotency_key=f"{package.code}.{step.position}",
                files=_held_files(package, package.declaration["files"][position]),
            ),
            eid_level=package.eid_level,
        )
    except ValidationFailed as error:
        _refuse_unfiled(step.pk, error)
        return False
    _link(step.pk, filed.id)
    return True


def _with_results(package: Package, step: PackageStep) -> dict[str, Any]:
    """The step's declaration with what earlier steps produced (the child's new PIN)."""
    declaration = dict(package.declaration["steps"][str(step.position)])
    if step.after is None:
        return declaration
    outputs: dict[str, Any] = {}
    for produced in DossierEffect.objects.filter(
        dossier__package_step__package=package, dossier__package_step__position=step.after
    ).values_list("outputs", flat=True):
        outputs.update(produced)
    if "pin" in outputs:  # a birth: the child's PIN, under the names the later forms use
        declaration.update(tre_pin=outputs["pin"], nguoi_dang_ky_pin=outputs["pin"])
    return declaration


def _held_files(package: Package, wanted: list[str]) -> dict[str, UploadedFile]:
    storage = private_storage()
    return {
        code: UploadedFile(
            file=storage.open(held["storage_name"]),
            name=held["original_name"],
            content_type=held["content_type"],
            size=held["size"],
        )
        for code, held in package.files.items()
        if code in wanted
    }


def _refusal_text(procedure_code: str, error: ValidationFailed) -> str:
    """The checks that refused to file a step, each with the name of the field it is about."""
    titles = {
        f"declaration.{name}": prop.get("title", name)
        for name, prop in procedure_current(procedure_code).form_fields
    }
    parts = [
        f"{titles[field]}: {message}" if field in titles else str(message)
        for field, message in error.errors.items()
    ]
    return "; ".join(dict.fromkeys(parts))


@transaction.atomic(durable=True)
def _refuse_unfiled(step_id: int, error: ValidationFailed) -> None:
    step = PackageStep.objects.select_for_update().get(pk=step_id)
    if step.dossier_id is not None:
        return
    step.status = StepStatus.REFUSED
    step.reason = _refusal_text(step.procedure_code, error)
    step.save(update_fields=["status", "reason"])
    audit_record(
        actor=SYSTEM,
        action="package.step_refused",
        object_type="dossiers.package",
        object_id=step.package.code,
        reason=step.reason,
        after={"position": step.position, "procedure": step.procedure_code},
    )
    transaction.on_commit(lambda: package_enqueue(step.package_id))


@transaction.atomic(durable=True)
def _link(step_id: int, dossier_id: int) -> None:
    """Tie the filed dossier to its step (unless a run before this one did) and give it the
    step's deadline inside the group."""
    step = PackageStep.objects.select_related("package").get(pk=step_id)
    tied = PackageStep.objects.filter(pk=step_id, dossier__isnull=True).update(
        dossier_id=dossier_id, status=StepStatus.FILED
    )
    if tied:
        _keep_in_group(dossier_id, timezone.localdate(), step.package, step)


def _keep_in_group(dossier_id: int, filed_on: date, package: Package, step: PackageStep) -> None:
    """The step's dossier is due by the step's day inside the group's one appointment (never
    before the day it was filed)."""
    due = work_calendar().appointment(package.submitted_at, step.days, cutoff=CIVIL_STATUS_CUTOFF)
    Dossier.objects.filter(pk=dossier_id).update(due_on=max(due, filed_on))


def packages_sweep(*, today: date | None = None) -> int:
    """What a lost job or a crash left behind, and the group's supplement rule: a step waiting
    for papers longer than the group allows is refused. Returns how many packages it moved."""
    today = today or timezone.localdate()
    for dossier_id, package_id in _supplements_overdue(today):
        _expire_supplement(dossier_id, package_id)
    stale = list(_packages_behind().values_list("pk", flat=True)[:1000])
    for package_id in stale:
        package_advance(package_id)
    return len(stale)


def _packages_behind() -> Any:
    """Running packages with a step that is ready to file or whose dossier has finished."""
    needed_done = PackageStep.objects.filter(
        package=OuterRef("package"), position=OuterRef("after"), status=StepStatus.DONE
    )
    ready = PackageStep.objects.filter(
        package=OuterRef("pk"), status=StepStatus.WAITING, dossier__isnull=True
    ).filter(Q(after__isnull=True) | Exists(needed_done))
    finished = PackageStep.objects.filter(
        package=OuterRef("pk"), status=StepStatus.FILED, dossier__status__in=DONE + REFUSED
    )
    return Package.objects.filter(status=PackageStatus.RUNNING).filter(
        Exists(ready) | Exists(finished)
    )


def _supplements_overdue(today: date) -> list[tuple[int, int]]:
    calendar = work_calendar()
    rows = PackageStep.objects.filter(
        package__status=PackageStatus.RUNNING,
        status=StepStatus.FILED,
        dossier__status=Status.SUPPLEMENT_REQUESTED,
    ).values_list("dossier_id", "package_id", "package__kind", "dossier__paused_on")
    return [
        (dossier_id, package_id)
        for dossier_id, package_id, kind, paused_on in rows
        if paused_on is not None
        and calendar.working_days_between(paused_on, today) > package_rule(kind).supplement_days
    ]


@transaction.atomic(durable=True)
def _expire_supplement(dossier_id: int, package_id: int) -> None:
    """Decree 63/2024: papers missing after the group's working days refuse the dossier."""
    dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
    if dossier.status != Status.SUPPLEMENT_REQUESTED:
        return
    now = timezone.now()
    note = gettext_noop("Quá hạn bổ sung giấy tờ của nhóm thủ tục liên thông")
    source, dossier.status = dossier.status, Status.REJECTED
    dossier.finished_at, dossier.paused_on = now, None
    dossier.version += 1
    dossier.save()
    DossierEvent.objects.create(
        dossier=dossier,
        action="expire",
        source=source,
        target=dossier.status,
        actor=SYSTEM.label,
        at=now,
        note=note,
    )
    audit_record(
        actor=SYSTEM,
        action="dossier.expire",
        object_type="dossiers.dossier",
        object_id=dossier.code,
        reason=note,
        before={"status": source},
        after={"status": dossier.status},
    )
    transaction.on_commit(lambda: package_enqueue(package_id))


# --- the citizen withdraws ------------------------------------------------------------------------


def package_withdraw(*, actor: Actor, package_id: int) -> None:
    """Withdraw every step not yet decided; the steps already done keep their results."""
    pin = _citizen(actor)
    package = Package.objects.filter(pk=package_id, applicant_pin=pin).first()
    if package is None:
        raise NotFound(_("Không có hồ sơ liên thông"))
    for step in package.steps.select_related("dossier").filter(dossier__isnull=False):
        dossier = step.dossier
        assert dossier is not None
        if dossier.status in (*DONE, *REFUSED):
            continue
        dossier_act(
            actor=actor,
            step=Step(dossier_id=dossier.pk, action="withdraw", version=dossier.version),
        )
    _close_withdrawn(actor, package_id)


@transaction.atomic(durable=True)
def _close_withdrawn(actor: Actor, package_id: int) -> None:
    package = Package.objects.select_for_update().get(pk=package_id)
    if package.status != PackageStatus.RUNNING:
        return
    package.steps.filter(status=StepStatus.WAITING, dossier__isnull=True).update(
        status=StepStatus.STOPPED
    )
    package.status, package.finished_at = PackageStatus.WITHDRAWN, timezone.now()
    package.save(update_fields=["status", "finished_at"])
    audit_record(
        actor=actor,
        action="package.withdraw",
        object_type="dossiers.package",
        object_id=package.code,
        after={"status": package.status},
    )


# --- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    position: int
    procedure_code: str
    procedure_name: str
    agency_name: str
    status: str
    status_label: str
    dossier_id: int | None
    dossier_code: str
    dossier_status_label: str
    due_on: date | None
    reason: str  # why it was refused or stopped, in words
    needs: str  # the name of the step it waits for

    @property
    def failed(self) -> bool:
        return self.status in (StepStatus.REFUSED, StepStatus.STOPPED)


@dataclass(frozen=True)
class PackageView:
    id: int
    code: str
    kind: str
    kind_label: str
    applicant_pin: str
    applicant_name: str
    status: str
    status_label: str
    submitted_at: Any
    due_on: date
    finished_at: Any
    steps: list[StepView]
    legal_basis: str

    @property
    def failed_step(self) -> StepView | None:
        return next((s for s in self.steps if s.status == StepStatus.REFUSED), None)

    @property
    def open(self) -> bool:
        return self.status == PackageStatus.RUNNING


def _procedure_name(code: str) -> str:
    procedure = procedure_current(code)
    return procedure.name_en if (get_language() or "vi").startswith("en") else procedure.name


def _step_view(step: PackageStep, names: dict[int, str]) -> StepView:
    dossier = step.dossier
    reason = step.reason
    if step.status == StepStatus.STOPPED:
        reason = _("Không thực hiện vì bước «%(name)s» không có kết quả") % {
            "name": names.get(step.after or 0, "")
        }
    return StepView(
        position=step.position,
        procedure_code=step.procedure_code,
        procedure_name=names[step.position],
        agency_name=dossier.agency.name if dossier else "",
        status=step.status,
        status_label=str(StepStatus(step.status).label),
        dossier_id=dossier.pk if dossier else None,
        dossier_code=dossier.code if dossier else "",
        dossier_status_label=str(Status(dossier.status).label) if dossier else "",
        due_on=dossier.due_on if dossier else None,
        reason=reason,
        needs=names.get(step.after or 0, ""),
    )


def _view(package: Package) -> PackageView:
    steps = list(package.steps.select_related("dossier__agency").order_by("position"))
    names = {s.position: _procedure_name(s.procedure_code) for s in steps}
    return PackageView(
        id=package.pk,
        code=package.code,
        kind=package.kind,
        kind_label=str(PackageKind(package.kind).label),
        applicant_pin=package.applicant_pin,
        applicant_name=package.applicant_name,
        status=package.status,
        status_label=str(PackageStatus(package.status).label),
        submitted_at=package.submitted_at,
        due_on=package.due_on,
        finished_at=package.finished_at,
        steps=[_step_view(s, names) for s in steps],
        legal_basis=package_rule(package.kind).legal_basis,
    )


def package_detail(*, actor: Actor, package_id: int) -> PackageView:
    """A package as its applicant sees it: each step, its agency, where it stands, why a step
    failed. Anybody else's package is not found."""
    package = Package.objects.filter(pk=package_id).first()
    if package is None or actor.kind != "citizen" or actor.pin != package.applicant_pin:
        raise NotFound(_("Không có hồ sơ liên thông"))
    return _view(package)


def packages_of(*, actor: Actor, limit: int = 50) -> list[PackageView]:
    pin = _citizen(actor)
    rows = Package.objects.filter(applicant_pin=pin).order_by("-submitted_at")[:limit]
    return [_view(p) for p in rows]


@dataclass(frozen=True)
class PackageContext:
    """Where a dossier stands in its package: for the official processing one step, and for
    the citizen's way back to the whole package."""

    id: int
    code: str
    kind_label: str
    position: int
    total: int
    due_on: date
    steps: list[tuple[str, str]]  # (procedure name, status label)


def package_of_dossier(dossier_id: int) -> PackageContext | None:
    step = PackageStep.objects.select_related("package").filter(dossier_id=dossier_id).first()
    if step is None:
        return None
    package = step.package
    steps = list(package.steps.order_by("position"))
    return PackageContext(
        id=package.pk,
        code=package.code,
        kind_label=str(PackageKind(package.kind).label),
        position=step.position,
        total=len(steps),
        due_on=package.due_on,
        steps=[(_procedure_name(s.procedure_code), str(StepStatus(s.status).label)) for s in steps],
    )
