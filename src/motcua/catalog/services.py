"""Writes to the catalog: loading procedures and workflows as data, publishing versions, agencies
and officials' roles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from motcua.catalog.models import (
    AGENCY_CODE,
    CITIZEN,
    Agency,
    AgencyKind,
    Component,
    EidLevel,
    Official,
    Procedure,
    ProcedureVersion,
    Role,
    ServiceLevel,
    Source,
    Status,
    Transition,
    Workflow,
)
from motcua.catalog.selectors import AgencyView, agency_get, effect_vocabulary, version_get
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import ValidationFailed
from motcua.core.text import fold, nfc

DATA_DIR = Path(__file__).parent / "data"
EDIT_PERMISSION = "catalog.change_procedure"
AGENCY_PERMISSION = "catalog.change_agency"

# What a form field may be pre-filled from: the applicant's registry record and account.
PREFILL_KEYS = frozenset(
    {
        "applicant.pin",
        "applicant.full_name",
        "applicant.birth_date",
        "applicant.sex",
        "applicant.ethnicity",
        "applicant.nationality",
        "applicant.permanent_address",
        "applicant.current_address",
        "applicant.card_number",
        "applicant.cmnd",
        "applicant.spouse_pin",
        "applicant.phone",
        "applicant.email",
    }
)
FIELD_TYPES = frozenset({"string", "integer", "boolean"})


# --- validation of procedures as data ----------------------------------------------------------


def form_schema_errors(schema: Any) -> dict[str, str]:
    """The declaration must be a JSON Schema our renderer can draw."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return {
            "form_schema": _("JSON Schema không hợp lệ: %(message)s") % {"message": error.message}
        }
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return {"form_schema": _("Tờ khai phải là một object")}
    errors: dict[str, str] = {}
    for name, prop in schema["properties"].items():
        where = f"form_schema.{name}"
        if prop.get("type") not in FIELD_TYPES:
            errors[where] = _("Kiểu không hỗ trợ")
        elif not prop.get("title"):
            errors[where] = _("Thiếu tiêu đề")
        elif prop.get("x-prefill") and prop["x-prefill"] not in PREFILL_KEYS:
            errors[where] = _("Không điền sẵn được từ %(x_prefill)s") % {
                "x_prefill": prop["x-prefill"]
            }
        elif "enum" in prop and len(prop.get("x-enum-titles", prop["enum"])) != len(prop["enum"]):
            errors[where] = _("x-enum-titles khác số phần tử enum")
        elif "x-relation" in prop and not _relation_rule_valid(prop, schema["properties"]):
            errors[where] = _("x-relation: mỗi lựa chọn nêu trường số định danh và quan hệ")
    for name in schema.get("required", []):
        if name not in schema["properties"]:
            errors[f"form_schema.{name}"] = _("Trường bắt buộc không tồn tại")
    return errors


# What a declared relation may require the named person to be, to the applicant (the
# registry's words; "self": the applicant is that person).
RELATIONS = frozenset({"self", "spouse", "child", "parent", "sibling", "grandchild", "grandparent"})


def _relation_rule_valid(prop: dict[str, Any], properties: dict[str, Any]) -> bool:
    """`"x-relation": {"<choice>": {"person": [<x-person fields>], "is": [<relations>]}}`."""
    rule = prop["x-relation"]
    if not isinstance(rule, dict):
        return False
    for choice, need in rule.items():
        if choice not in prop.get("enum", ()) or not isinstance(need, dict):
            return False
        people, relations = need.get("person"), need.get("is")
        if not isinstance(people, list) or not isinstance(relations, list) or not people:
            return False
        if any(not properties.get(p, {}).get("x-person") for p in people):
            return False
        if not relations or not set(relations) <= RELATIONS:
            return False
    return True


def _component_errors(components: list[dict[str, Any]], codes: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if sum(1 for c in components if c["source"] == Source.FORM) != 1:
        errors["components"] = _("Cần đúng một tờ khai")
    seen: set[str] = set()
    for c in components:
        where = f"components.{c['code']}"
        if c["code"] in seen:
            errors[where] = _("Mã trùng")
        elif c["source"] not in Source.values:
            errors[where] = _("Nguồn không hợp lệ %(source)s") % {"source": c["source"]}
        elif c["source"] == Source.RESULT and c.get("source_ref") not in codes:
            errors[where] = _("Không có thủ tục %(source_ref)s") % {
                "source_ref": c.get("source_ref")
            }
        seen.add(c["code"])
    return errors


def _procedure_errors(
    data: dict[str, Any], codes: set[str], actions: set[str] | None = None
) -> dict[str, str]:
    """What is wrong with a procedure as data. `actions`: its workflow's actions, if known."""
    errors: dict[str, str] = {}
    if data["agency_kind"] not in AgencyKind.values:
        errors["agency_kind"] = _("Loại cơ quan không hợp lệ %(agency_kind)s") % {
            "agency_kind": data["agency_kind"]
        }
    if data["service_level"] not in ServiceLevel.values:
        errors["service_level"] = _("Mức độ 2, 3 hoặc 4")
    if data.get("min_eid_level", EidLevel.LEVEL_2) not in EidLevel.values:
        errors["min_eid_level"] = _("Mức định danh 1 hoặc 2")
    if not 0 <= int(data["days"]) <= 365:
        errors["days"] = _("Thời hạn 0-365 ngày làm việc")
    if int(data["fee"]) < 0:
        errors["fee"] = _("Lệ phí không âm")
    errors.update(form_schema_errors(data["form_schema"]))
    fields = data["form_schema"].get("properties", {})
    for rule in data["fee_exemptions"]:
        if rule.get("since_field") and rule["since_field"] not in fields:
            errors[f"fee_exemptions.{rule['code']}"] = _("since_field không có trong tờ khai")
    errors.update(_component_errors(data["components"], codes))
    errors.update(_effect_errors(data.get("effects") or {}, actions))
    return {f"{data['code']}.{k}": v for k, v in errors.items()}


def _effect_errors(effects: Any, actions: set[str] | None) -> dict[str, str]:
    """`{"issue_result": ["birth_register"]}`: known actions of the procedure's workflow (when
    they are known), each naming effects of the vocabulary, once."""
    if not isinstance(effects, dict):
        return {"effects": _("Hiệu lực phải là một object: bước → danh sách hiệu lực")}
    vocabulary = effect_vocabulary()
    errors: dict[str, str] = {}
    for action, names in effects.items():
        where = f"effects.{action}"
        if actions is not None and action not in actions:
            errors[where] = _("Quy trình không có bước %(action)s") % {"action": action}
        elif not isinstance(names, list) or len(set(map(str, names))) != len(names):
            errors[where] = _("Cần một danh sách hiệu lực không trùng nhau")
        elif unknown := [n for n in names if n not in vocabulary]:
            errors[where] = _("Hiệu lực không có trong danh mục %(unknown)s") % {"unknown": unknown}
    return errors


def _transition_errors(workflow: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    roles = {*Role.values, CITIZEN}
    for t in workflow["transitions"]:
        states = [*t["sources"], t["target"]]
        where = f"{workflow['code']}.{t['action']}"
        if unknown := [s for s in states if s not in Status.values]:
            errors[where] = _("Trạng thái không hợp lệ %(unknown)s") % {"unknown": unknown}
        elif unknown := [r for r in t["roles"] if r not in roles]:
            errors[where] = _("Vai trò không hợp lệ %(unknown)s") % {"unknown": unknown}
    return errors


# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadReport:
    workflows: int
    published: list[str]
    unchanged: list[str]


def catalog_files() -> tuple[dict[str, Any], dict[str, Any]]:
    """The catalog Motcua ships with: the essential services a province runs."""
    procedures = json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8"))
    workflows = json.loads((DATA_DIR / "workflows.json").read_text(encoding="utf-8"))
    return procedures, workflows


@transaction.atomic(durable=True)
def catalog_load(
    *, actor: Actor, procedures: list[dict[str, Any]], workflows: list[dict[str, Any]]
) -> LoadReport:
    """Create or update workflows and procedures; a changed procedure gets a new version.
    All or nothing: one bad procedure refuses the whole load."""
    actor.require(EDIT_PERMISSION)
    codes = {p["code"] for p in procedures}
    errors: dict[str, str] = {}
    for workflow in workflows:
        errors.update(_transition_errors(workflow))
    # Each workflow's actions: as loaded now, else as stored.
    actions = {
        w.code: set(w.transitions.values_list("action", flat=True)) for w in Workflow.objects.all()
    } | {w["code"]: {t["action"] for t in w["transitions"]} for w in workflows}
    for data in procedures:
        workflow = data.get("workflow", "civil_status" if data["civil_status"] else "standard")
        errors.update(_procedure_errors(data, codes, actions.get(workflow)))
    if errors:
        raise ValidationFailed(errors)
    for workflow in workflows:
        _workflow_save(actor, workflow)
    saved = [_procedure_save(data) for data in procedures]  # all first: they refer to each other
    published, unchanged = [], []
    for procedure in saved:
        if procedure_publish(actor=actor, procedure_id=procedure.pk):
            published.append(procedure.code)
        else:
            unchanged.append(procedure.code)
    return LoadReport(workflows=len(workflows), published=published, unchanged=unchanged)


def _workflow_save(actor: Actor, data: dict[str, Any]) -> None:
    workflow, _created = Workflow.objects.update_or_create(
        code=data["code"], defaults={"name": nfc(data["name"])}
    )
    workflow.transitions.exclude(action__in=[t["action"] for t in data["transitions"]]).delete()
    for t in data["transitions"]:
        Transition.objects.update_or_create(
            workflow=workflow,
            action=t["action"],
            defaults={
                "name": nfc(t["name"]),
                "sources": t["sources"],
                "target": t["target"],
                "roles": t["roles"],
                "note_required": t.get("note_required", False),
            },
        )
    audit_record(
        actor=actor,
        action="workflow.load",
        object_type="catalog.workflow",
        object_id=workflow.code,
        after=data,
    )


def _with_order(schema: dict[str, Any]) -> dict[str, Any]:
    """The form's field order as written, kept in `x-order`: jsonb does not keep key order."""
    return {"x-order": list(schema.get("properties", {})), **schema}


def _procedure_save(data: dict[str, Any]) -> Procedure:
    default_workflow = "civil_status" if data["civil_status"] else "standard"
    procedure, _created = Procedure.objects.update_or_create(
        code=data["code"],
        defaults={
            "name": nfc(data["name"]),
            "name_en": nfc(data.get("name_en", "")),
            "field": nfc(data["field"]),
            "agency_kind": data["agency_kind"],
            "legal_basis": nfc(data["legal_basis"]),
            "days": data["days"],
            "civil_status": data["civil_status"],
            "fee": data["fee"],
            "fee_exemptions": data["fee_exemptions"],
            "service_level": data["service_level"],
            "essential_no": data.get("essential_no"),
            "min_eid_level": data.get("min_eid_level", EidLevel.LEVEL_2),
            "form_schema": _with_order(data["form_schema"]),
            "workflow": Workflow.objects.get(code=data.get("workflow", default_workflow)),
            "effects": data.get("effects") or {},
        },
    )
    procedure.components.exclude(code__in=[c["code"] for c in data["components"]]).delete()
    for position, c in enumerate(data["components"]):
        Component.objects.update_or_create(
            procedure=procedure,
            code=c["code"],
            defaults={
                "name": nfc(c["name"]),
                "name_en": nfc(c.get("name_en", "")),
                "required": c.get("required", True),
                "source": c["source"],
                "source_ref": c.get("source_ref") or "",
                "position": position,
            },
        )
    return procedure


# --- versions -----------------------------------------------------------------------------------


def procedure_snapshot(procedure: Procedure) -> dict[str, Any]:
    """Everything a dossier needs to be processed under this procedure, as it stands now.
    Effects only when it has some: a procedure without keeps the snapshot it was published
    with before effects existed (no new version for nothing)."""
    snapshot = {
        "code": procedure.code,
        "name": procedure.name,
        "name_en": procedure.name_en,
        "field": procedure.field,
        "agency_kind": procedure.agency_kind,
        "legal_basis": procedure.legal_basis,
        "days": procedure.days,
        "civil_status": procedure.civil_status,
        "fee": procedure.fee,
        "fee_exemptions": procedure.fee_exemptions,
        "service_level": procedure.service_level,
        "essential_no": procedure.essential_no,
        "min_eid_level": procedure.min_eid_level,
        "form_schema": procedure.form_schema,
        "components": [
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "required": c.required,
                "source": c.source,
                "source_ref": c.source_ref,
            }
            for c in procedure.components.order_by("position", "id")
        ],
        "workflow": {
            "code": procedure.workflow.code,
            "transitions": [
                {
                    "action": t.action,
                    "name": t.name,
                    "sources": t.sources,
                    "target": t.target,
                    "roles": t.roles,
                    "note_required": t.note_required,
                }
                for t in procedure.workflow.transitions.order_by("id")
            ],
        },
    }
    if procedure.effects:
        snapshot["effects"] = procedure.effects
    return snapshot


@transaction.atomic
def procedure_publish(*, actor: Actor, procedure_id: int) -> ProcedureVersion | None:
    """Publish the procedure as it stands as a new version, unless nothing changed. Not durable:
    the admin calls it inside its own transaction, after saving the procedure's components."""
    actor.require(EDIT_PERMISSION)
    procedure = (
        Procedure.objects.select_for_update().select_related("workflow").get(pk=procedure_id)
    )
    snapshot = procedure_snapshot(procedure)
    actions = {t["action"] for t in snapshot["workflow"]["transitions"]}
    errors = _procedure_errors(
        snapshot, set(Procedure.objects.values_list("code", flat=True)), actions
    )
    if errors:
        raise ValidationFailed(errors)
    current = procedure.versions.filter(number=procedure.current_version).first()
    if current is not None and current.snapshot == snapshot:
        return None
    version = ProcedureVersion.objects.create(
        procedure=procedure,
        number=procedure.current_version + 1,
        snapshot=snapshot,
        published_by=actor.label,
    )
    procedure.current_version = version.number
    procedure.search_key = fold(f"{procedure.code} {procedure.name} {procedure.field}")
    procedure.save(update_fields=["current_version", "search_key"])
    audit_record(
        actor=actor,
        action="procedure.publish",
        object_type="catalog.procedure",
        object_id=procedure.code,
        before=current.snapshot if current else None,
        after={"version": version.number, **snapshot},
    )
    version_get.cache_clear()
    return version


# --- agencies and officials ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewAgency:
    code: str
    name: str
    kind: str
    unit_code: str
    parent_code: str | None = None


@transaction.atomic(durable=True)
def agency_add(*, actor: Actor, agency: NewAgency) -> AgencyView:
    actor.require(AGENCY_PERMISSION)
    errors: dict[str, str] = {}
    try:
        AGENCY_CODE(agency.code)
    except Exception as error:  # Django's ValidationError carries the bilingual message
        errors["code"] = str(getattr(error, "message", error))
    if agency.kind not in AgencyKind.values:
        errors["kind"] = _("Loại cơ quan không hợp lệ")
    if Agency.objects.filter(code=agency.code).exists():
        errors["code"] = _("Mã đã dùng")
    parent = Agency.objects.filter(code=agency.parent_code).first() if agency.parent_code else None
    if agency.parent_code and parent is None:
        errors["parent_code"] = _("Không có cơ quan cấp trên này")
    if errors:
        raise ValidationFailed(errors)
    row = Agency.objects.create(
        code=agency.code,
        name=nfc(agency.name),
        kind=agency.kind,
        unit_code=agency.unit_code,
        parent=parent,
    )
    audit_record(
        actor=actor,
        action="agency.add",
        object_type="catalog.agency",
        object_id=row.code,
        after={"name": row.name, "kind": row.kind, "unit": row.unit_code},
    )
    return agency_get(row.pk)


@transaction.atomic(durable=True)
def official_assign(*, actor: Actor, username: str, agency_code: str, role: str) -> None:
    """Give a staff user a role in an agency."""
    actor.require(AGENCY_PERMISSION)
    user = get_user_model().objects.filter(username=username, is_staff=True).first()
    agency = Agency.objects.filter(code=agency_code, active=True).first()
    errors: dict[str, str] = {}
    if user is None:
        errors["username"] = _("Không có cán bộ này")
    if agency is None:
        errors["agency_code"] = _("Không có cơ quan này")
    if role not in Role.values:
        errors["role"] = _("Vai trò không hợp lệ")
    if errors:
        raise ValidationFailed(errors)
    _official, created = Official.objects.get_or_create(user=user, agency=agency, role=role)
    if created:
        audit_record(
            actor=actor,
            action="official.assign",
            object_type="catalog.agency",
            object_id=agency_code,
            after={"user": username, "role": role},
        )


@dataclass(frozen=True)
class Place:
    """An administrative unit an agency serves (from the geo app)."""

    key: str
    code: str
    name: str


def _province_agencies(province: Place) -> list[NewAgency]:
    suffix = f"P{province.code}"
    root = f"000.00.00.{suffix}"
    return [
        NewAgency(
            root,
            gettext_noop("Ủy ban nhân dân %(name)s") % {"name": province.name},
            AgencyKind.PROVINCE_COMMITTEE,
            province.key,
        ),
        NewAgency(
            f"000.00.10.{suffix}",
            gettext_noop("Công an %(name)s") % {"name": province.name},
            AgencyKind.PROVINCE_POLICE,
            province.key,
            root,
        ),
        NewAgency(
            f"000.00.20.{suffix}",
            gettext_noop("Sở Tư pháp %(name)s") % {"name": province.name},
            AgencyKind.JUSTICE_DEPARTMENT,
            province.key,
            root,
        ),
        NewAgency(
            f"000.00.30.{suffix}",
            gettext_noop("Bảo hiểm xã hội %(name)s") % {"name": province.name},
            AgencyKind.SOCIAL_INSURANCE,
            province.key,
            root,
        ),
        NewAgency(
            f"000.00.40.{suffix}",
            gettext_noop("Cơ quan lao động - xã hội %(name)s") % {"name": province.name},
            AgencyKind.LABOUR,
            province.key,
            root,
        ),
    ]


def _ward_agencies(province: Place, ward: Place) -> list[NewAgency]:
    suffix = f"P{province.code}"
    return [
        NewAgency(
            f"{ward.code}.01.{suffix}",
            gettext_noop("Ủy ban nhân dân %(name)s") % {"name": ward.name},
            AgencyKind.COMMUNE,
            ward.key,
            f"000.00.00.{suffix}",
        ),
        NewAgency(
            f"{ward.code}.02.{suffix}",
            gettext_noop("Công an %(name)s") % {"name": ward.name},
            AgencyKind.COMMUNE_POLICE,
            ward.key,
            f"000.00.10.{suffix}",
        ),
    ]


@transaction.atomic(durable=True)
def province_agencies_ensure(*, actor: Actor, province: Place, wards: list[Place]) -> int:
    """The agencies of a province and of each of its wards (People's Committee and police),
    with codes in the shape of electronic agency identifiers. Returns how many were new."""
    actor.require(AGENCY_PERMISSION)
    wanted = _province_agencies(province)
    for ward in wards:
        wanted.extend(_ward_agencies(province, ward))
    existing = set(
        Agency.objects.filter(code__in=[a.code for a in wanted]).values_list("code", flat=True)
    )
    parents: dict[str, Agency] = {a.code: a for a in Agency.objects.filter(code__in=existing)}
    created = 0
    for new in wanted:
        if new.code in existing:
            continue
        parents[new.code] = Agency.objects.create(
            code=new.code,
            name=nfc(new.name),
            kind=new.kind,
            unit_code=new.unit_code,
            parent=parents.get(new.parent_code or ""),
        )
        created += 1
    if created:
        audit_record(
            actor=actor,
            action="agency.province_ensure",
            object_type="catalog.agency",
            object_id=province.key,
            after={"created": created},
        )
    return created
