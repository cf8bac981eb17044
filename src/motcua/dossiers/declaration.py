"""The declaration (tờ khai): pre-filled from what the state holds, checked against the
procedure's JSON Schema, with one message per field."""

from __future__ import annotations

from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from motcua.identity.selectors import Contact
from motcua.registry.selectors import CitizenRecord

# Identity facts the registry holds: shown, never editable (the once-only rule).
LOCKED = frozenset(
    {"applicant.pin", "applicant.full_name", "applicant.birth_date", "applicant.sex"}
)

MESSAGES = {
    "required": "Bắt buộc / required",
    "type": "Sai kiểu dữ liệu / wrong type",
    "pattern": "Sai định dạng / wrong format",
    "maxLength": "Quá dài / too long",
    "minLength": "Quá ngắn / too short",
    "enum": "Không phải một lựa chọn hợp lệ / not one of the choices",
    "format": "Ngày không hợp lệ (YYYY-MM-DD) / invalid date",
    "minimum": "Nhỏ hơn mức cho phép / below the minimum",
    "maximum": "Lớn hơn mức cho phép / above the maximum",
}


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
        name: MESSAGES["required"] for name in schema.get("required", []) if name not in values
    }
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(values):
        name = _field_of(error)
        if name and name not in errors:
            errors[name] = MESSAGES.get(str(error.validator), error.message)
    return values, {f"declaration.{name}": message for name, message in errors.items()}


def _field_of(error: ValidationError) -> str | None:
    if error.path:
        return str(error.path[0])
    return None  # object-level (required): reported above, per field
