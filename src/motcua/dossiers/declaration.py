"""The declaration (tờ khai): pre-filled from what the state holds, checked against the
procedure's JSON Schema, with one message per field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from motcua.core.actors import Actor
from motcua.identity.selectors import Contact
from motcua.registry.selectors import CitizenRecord, person_reference_problem, relation_between

# Identity facts the registry holds: shown, never editable (the once-only rule).
LOCKED = frozenset(
    {"applicant.pin", "applicant.full_name", "applicant.birth_date", "applicant.sex"}
)

MESSAGES = {
    "required": gettext_lazy("Bắt buộc"),
    "type": gettext_lazy("Sai kiểu dữ liệu"),
    "pattern": gettext_lazy("Sai định dạng"),
    "maxLength": gettext_lazy("Quá dài"),
    "minLength": gettext_lazy("Quá ngắn"),
    "enum": gettext_lazy("Không phải một lựa chọn hợp lệ"),
    "format": gettext_lazy("Ngày không hợp lệ (YYYY-MM-DD)"),
    "minimum": gettext_lazy("Nhỏ hơn mức cho phép"),
    "maximum": gettext_lazy("Lớn hơn mức cho phép"),
}


# Dates that cannot lie ahead: a birth, a death, a loss, an event that has happened. A field
# says so with `"x-not-future": true`, or by its name (ngay_sinh, ngay_chet, ngay_mat, ...).
_PAST_DATE_NAME = re.compile(r"(^|_)(ngay_sinh|ngay_chet|ngay_mat|ngay_phat_sinh|birth|death)")
# Whose PIN a field holds, by its name: a mother's must be a woman's, a father's a man's. A
# field may say so with `"x-sex": "F"`; the name beside it is `<prefix>_ho_ten`, if the form
# asks for it.
_PARENT_SEX = {"me": "F", "cha": "M"}


def _must_be_past(name: str, prop: dict[str, Any]) -> bool:
    if prop.get("format") != "date":
        return False
    return bool(prop.get("x-not-future", _PAST_DATE_NAME.search(name)))


def _person_sex(name: str, prop: dict[str, Any]) -> str | None:
    if "x-sex" in prop:
        return str(prop["x-sex"])
    return _PARENT_SEX.get(name.removesuffix("_pin"))


def _address(record: CitizenRecord, kind: str) -> str:
    for residence in record.residences:
        if residence.kind == kind:
            return f"{residence.address}, {residence.ward_name}".strip(", ")
    return ""


def known_facts(record: CitizenRecord, contact: Contact | None) -> dict[str, Any]:
    """What the state holds about the applicant, under the names forms pre-fill from."""
    facts: dict[str, Any] = {
        "applicant.pin": record.pin,
        "applicant.full_name": record.full_name,
        "applicant.sex": record.sex,
        "applicant.ethnicity": record.ethnicity,
        "applicant.nationality": record.nationality,
        "applicant.permanent_address": _address(record, "permanent"),
        "applicant.current_address": _address(record, "temporary") or _address(record, "permanent"),
        "applicant.card_number": record.card.number if record.card else "",
        "applicant.cmnd": record.cmnd or "",
        "applicant.spouse_pin": record.spouse_pin or "",
        "applicant.phone": contact.phone if contact else "",
        "applicant.email": contact.email if contact else "",
    }
    if _is_full_date(record.birth_date):
        facts["applicant.birth_date"] = record.birth_date
    return {key: value for key, value in facts.items() if value}


def _is_full_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def prefill(schema: dict[str, Any], facts: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Initial values of the form's fields, and the fields locked to the registry's values."""
    values: dict[str, Any] = {}
    locked: set[str] = set()
    for name, prop in schema["properties"].items():
        key = prop.get("x-prefill")
        if key in facts:
            values[name] = facts[key]
            if key in LOCKED:
                locked.add(name)
    return values, locked


def declaration_check(
    schema: dict[str, Any], submitted: dict[str, Any], facts: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The declaration as it will be stored, and what is wrong with it per field.

    Locked fields take the registry's values whatever was sent; unknown fields are dropped;
    empty strings count as missing."""
    values, locked = prefill(schema, facts)
    for name in schema["properties"]:
        if name not in locked and submitted.get(name) not in (None, ""):
            values[name] = submitted[name]
    errors = {
        name: str(MESSAGES["required"]) for name in schema.get("required", []) if name not in values
    }
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(values):
        name = _field_of(error)
        if name and name not in errors:
            errors[name] = str(MESSAGES.get(str(error.validator), error.message))
    today = date.today()
    for name, prop in schema["properties"].items():
        value = values.get(name)
        if name in errors or name in locked or not isinstance(value, str):
            continue
        if _must_be_past(name, prop) and _is_full_date(value) and date.fromisoformat(value) > today:
            errors[name] = _("Ngày này chưa đến: không được ở tương lai")
    return values, {f"declaration.{name}": message for name, message in errors.items()}


def declaration_people_errors(
    schema: dict[str, Any],
    values: dict[str, Any],
    *,
    actor: Actor,
    purpose: str,
    applicant_pin: str | None = None,
) -> dict[str, str]:
    """What is wrong with the other people a declaration names by PIN (`x-person` fields),
    checked against the registry: a PIN nobody has, a name that is not that person's, a
    mother's PIN that is a man's, a person recorded dead (unless the field says
    `"x-living": false`: a father who died before the birth, the deceased of a benefit claim);
    then the relation the applicant declares to them where the law asks for one (`x-relation`
    on the choice: the applicant who says "mother" must be the mother whose PIN is given). All
    of them at once, keyed like `declaration_check`'s errors."""
    errors: dict[str, str] = {}
    for name, prop in schema["properties"].items():
        pin = values.get(name)
        if not prop.get("x-person") or not isinstance(pin, str) or not pin:
            continue
        prefix = name.removesuffix("_pin")
        given_name = values.get(f"{prefix}_ho_ten")
        problem = person_reference_problem(
            actor=actor,
            pin=pin,
            sex=_person_sex(name, prop),
            full_name=given_name if isinstance(given_name, str) else None,
            purpose=purpose,
            living=bool(prop.get("x-living", True)),
        )
        if problem:
            errors[f"declaration.{name}"] = problem
    applicant = applicant_pin or actor.pin
    if applicant:
        errors.update(_relation_errors(schema, values, errors, applicant, actor, purpose))
    return errors


def _choice_title(prop: dict[str, Any], choice: str) -> str:
    titles = prop.get("x-enum-titles") or prop["enum"]
    return str(titles[prop["enum"].index(choice)])


def _relation_errors(
    schema: dict[str, Any],
    values: dict[str, Any],
    found: dict[str, str],
    applicant: str,
    actor: Actor,
    purpose: str,
) -> dict[str, str]:
    """The declared relation of the applicant to the people named, against the registry:
    `"x-relation": {"me": {"person": ["me_pin"], "is": ["self"]}}` on the choice field reads
    "whoever answers `me` is the person in `me_pin`"; `"is": ["child"]` reads "the person named
    is the applicant's child". One of the people given must stand so."""
    errors: dict[str, str] = {}
    properties = schema["properties"]
    for name, prop in properties.items():
        rule = prop.get("x-relation")
        choice = values.get(name)
        if not isinstance(rule, dict) or choice not in rule:
            continue
        need = rule[choice]
        people = [
            str(values[p])
            for p in need["person"]
            if values.get(p) and f"declaration.{p}" not in found
        ]
        if not people:
            continue  # nobody named, or the PIN itself is wrong (reported on its field)
        wanted = set(need["is"])
        if "self" in wanted and applicant in people:
            continue
        others = [p for p in people if p != applicant]
        if wanted - {"self"} and any(
            relation_between(actor=actor, pin=applicant, other_pin=p, purpose=purpose) in wanted
            for p in others
        ):
            continue
        title = _choice_title(prop, str(choice))
        if wanted == {"self"}:
            fields = ", ".join(str(properties[p].get("title", p)) for p in need["person"])
            errors[f"declaration.{name}"] = _(
                "Bạn khai là “%(choice)s” nhưng số định danh ở mục “%(field)s” không phải của bạn"
            ) % {"choice": title, "field": fields}
        else:
            errors[f"declaration.{name}"] = _(
                "Theo Cơ sở dữ liệu quốc gia về dân cư, quan hệ “%(choice)s” không đúng với "
                "người có số định danh %(pin)s"
            ) % {"choice": title, "pin": others[0] if others else people[0]}
    return errors


def _field_of(error: ValidationError) -> str | None:
    if error.path:
        return str(error.path[0])
    return None  # object-level (required): reported above, per field
