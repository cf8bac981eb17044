"""Writes to the population registry.

Each service is one transaction: the permission check, the rules (every violation reported as a
field error, nothing written), the change, the life event and the audit row.

The services a dossier's decision runs as its effects (births, deaths, marriages, residence,
absences, cards) are nestable (`@transaction.atomic`, not durable): the dossier step calls them
inside its own transaction, so that the decision and the registry change commit together or not
at all. They take the act's `reference` (the dossier's code), record it on the life event and
the audit row, and are idempotent by it: a retried act finds its first event and writes nothing.
The others stay durable: each is a transaction of its own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.errors import ValidationFailed
from motcua.geo.selectors import units_get
from motcua.registry.cards import card_expiry
from motcua.registry.dates import PartialDate, add_years, age_on
from motcua.registry.kinship import HOUSEHOLD_RELATION, kinship
from motcua.registry.models import (
    Absence,
    Citizen,
    ContactSource,
    DeletionGrounds,
    Household,
    HouseholdMember,
    IdCard,
    LifeEvent,
    Relation,
    Residence,
)
from motcua.registry.pin import PROVINCE_CODES, pin_disagreements, pin_random
from motcua.registry.seed import DEFAULT_PROVINCE as DEFAULT_PROVINCE  # seeding, re-exported
from motcua.registry.seed import LoadStats as LoadStats
from motcua.registry.seed import SeedError as SeedError
from motcua.registry.seed import population_load as population_load
from motcua.registry.selectors import citizen_not_found

CHANGE_PERMISSION = "registry.change_citizen"
MIN_PARENT_AGE_GAP = 12
MIN_MARRIAGE_AGE = {"M": 20, "F": 18}  # Luật Hôn nhân và gia đình 2014, Điều 8
PIN_ATTEMPTS = 20
FULL_AGE = 18  # người thành niên, Bộ luật Dân sự 2015, Điều 20
REFERENCE_MAX = 64
DESTINATION_MAX = 200  # Absence.destination

# Fields a correction may change; the PIN itself never changes.
CORRECTABLE_FIELDS = (
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "hometown",
    "ethnicity",
    "religion",
    "nationality",
    "father_pin",
    "mother_pin",
    "cmnd",
    "death_date",
)


def normalize_name(name: str) -> str:
    """NFC with single spaces: Vietnamese names keep their diacritics, stored one way only."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def citizen_snapshot(citizen: Citizen) -> dict[str, Any]:
    """The record as plain JSON values: what life events and audit rows carry."""
    return {
        "full_name": citizen.full_name,
        "sex": citizen.sex,
        "birth_date": str(PartialDate(citizen.birth_date, citizen.birth_date_precision)),
        "birth_place": citizen.birth_place,
        "hometown": citizen.hometown,
        "ethnicity": citizen.ethnicity,
        "religion": citizen.religion,
        "nationality": citizen.nationality,
        "father_pin": citizen.father_pin,
        "mother_pin": citizen.mother_pin,
        "spouse_pin": citizen.spouse_pin,
        "cmnd": citizen.cmnd,
        "death_date": citizen.death_date.isoformat() if citizen.death_date else None,
    }


def _apply(citizen: Citizen, values: dict[str, Any]) -> None:
    """Set snapshot values on the model, the inverse of citizen_snapshot."""
    for field, value in values.items():
        if field == "birth_date":
            partial = PartialDate.parse(value)
            citizen.birth_date, citizen.birth_date_precision = partial.value, partial.precision
        elif field == "death_date":
            citizen.death_date = date.fromisoformat(value) if value else None
        elif field == "cmnd":
            citizen.cmnd = value or None
        else:
            setattr(citizen, field, value)


# --- rules ---------------------------------------------------------------------------------


def _check_record(citizen: Citizen, *, today: date) -> dict[str, str]:
    """Every rule a citizen record must satisfy on its own and against its relatives."""
    errors: dict[str, str] = {}
    if not citizen.full_name or not all(ch.isalpha() or ch in " '-" for ch in citizen.full_name):
        errors["full_name"] = _("Họ tên chỉ gồm chữ cái và dấu cách")
    if citizen.sex not in ("M", "F"):
        errors["sex"] = _("Giới tính là M hoặc F")
    if citizen.birth_date > today:
        errors["birth_date"] = _("Ngày sinh ở tương lai")
    if citizen.death_date is not None:
        if citizen.death_date > today:
            errors["death_date"] = _("Ngày mất ở tương lai")
        elif citizen.death_date < citizen.birth_date:
            errors["death_date"] = _("Ngày mất trước ngày sinh")
    if citizen.cmnd and not (len(citizen.cmnd) == 9 and citizen.cmnd.isdigit()):
        errors["cmnd"] = _("Số CMND gồm đúng 9 chữ số")
    if citizen.cmnd and Citizen.objects.filter(cmnd=citizen.cmnd).exclude(pk=citizen.pk).exists():
        errors["cmnd"] = _("Số CMND %(cmnd)s đã thuộc người khác") % {"cmnd": citizen.cmnd}
    errors.update(_check_places(citizen))
    errors.update(_check_parents(citizen))
    if citizen.pk and "sex" not in errors and "birth_date" not in errors:
        errors.update(
            pin_disagreements(citizen.pin, sex=citizen.sex, birth_year=citizen.birth_date.year)
        )
    return errors


def _check_places(citizen: Citizen) -> dict[str, str]:
    keys = {f: getattr(citizen, f) for f in ("birth_place", "hometown") if getattr(citizen, f)}
    known = units_get(list(keys.values()))
    errors = {
        f: _("Không có đơn vị hành chính %(key)s") % {"key": key}
        for f, key in keys.items()
        if key not in known
    }
    if not citizen.birth_place:
        errors["birth_place"] = _("Bắt buộc")
    return errors


def _check_parents(citizen: Citizen) -> dict[str, str]:
    errors: dict[str, str] = {}
    child_born = PartialDate(citizen.birth_date, citizen.birth_date_precision)
    for field, sex in (("father_pin", "M"), ("mother_pin", "F")):
        parent_pin = getattr(citizen, field)
        if not parent_pin:
            continue
        parent = Citizen.objects.filter(pk=parent_pin).first()
        if parent is None:
            errors[field] = _("Không có công dân %(parent_pin)s") % {"parent_pin": parent_pin}
        elif parent.sex != sex:
            errors[field] = (
                _("%(full_name)s là nữ, không thể là cha của trẻ")
                if sex == "M"
                else _("%(full_name)s là nam, không thể là mẹ của trẻ")
            ) % {"full_name": parent.full_name}
        elif add_years(parent.birth_date, MIN_PARENT_AGE_GAP) > child_born.latest:
            errors[field] = _("Cha/mẹ phải lớn hơn con ít nhất %(years)s tuổi") % {
                "years": MIN_PARENT_AGE_GAP
            }
    return errors


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _locked_citizen(pin: str) -> Citizen:
    citizen = Citizen.objects.select_for_update().filter(pk=pin).first()
    if citizen is None:
        raise citizen_not_found(pin)
    return citizen


def _require_living(citizen: Citizen, field: str = "pin") -> None:
    if not citizen.is_living:
        raise ValidationFailed(
            {
                field: _("%(full_name)s đã mất ngày %(death_date)s; chỉ được điều chỉnh thông tin")
                % {"full_name": citizen.full_name, "death_date": citizen.death_date}
            }
        )


def _record_event(
    *,
    actor: Actor,
    citizen: Citizen,
    kind: str,
    occurred_on: date,
    legal_basis: str,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reference: str = "",
) -> None:
    LifeEvent.objects.create(
        citizen=citizen,
        kind=kind,
        occurred_on=occurred_on,
        recorded_at=datetime.now(UTC),
        actor=actor.label,
        legal_basis=legal_basis,
        reason=reason,
        before=before or {},
        after=after or {},
        reference=reference,
    )
    audit_record(
        actor=actor,
        action=f"registry.{kind}",
        object_type="citizen",
        object_id=citizen.pk,
        reason=" — ".join(filter(None, [legal_basis, reason, reference])),
        before=before,
        after=after,
    )


def _checked_reference(reference: str) -> str:
    reference = reference.strip()
    if len(reference) > REFERENCE_MAX:
        raise ValidationFailed({"reference": _("Tối đa %(max)s ký tự") % {"max": REFERENCE_MAX}})
    return reference


def _earlier_event(
    *, kind: str, reference: str, pins: list[str] | None = None, after_key: str = ""
) -> LifeEvent | None:
    """The first event of `kind` that the act `reference` recorded (for one of `pins`, and
    with `after_key` in its `after`), or None; never one for an empty reference."""
    if not reference:
        return None
    events = LifeEvent.objects.filter(kind=kind, reference=reference)
    if pins is not None:
        events = events.filter(citizen_id__in=pins)
    if after_key:
        events = events.filter(after__has_key=after_key)
    return events.order_by("id").first()


def _lock_reference(kind: str, reference: str) -> None:
    """Serialise acts with one reference until the transaction ends, where no row can be
    locked (a birth creates its person)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"registry.{kind}:{reference}"]
        )


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


# --- births, deaths, corrections -------------------------------------------------------------


@transaction.atomic
def citizen_register_birth(
    *,
    actor: Actor,
    full_name: str,
    sex: str,
    birth_date: date,
    birth_place: str,
    registered_in: str,
    father_pin: str = "",
    mother_pin: str = "",
    hometown: str = "",
    ethnicity: str = "Kinh",
    religion: str = gettext_noop("Không"),
    nationality: str = "VN",
    legal_basis: str = gettext_noop("Luật Hộ tịch 2014, Điều 16"),
    today: date | None = None,
    reference: str = "",
) -> str:
    """Register a birth and give the child a new PIN; returns the PIN. Again with the same
    `reference`: the PIN registered the first time, nothing written."""
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    if reference:
        _lock_reference(LifeEvent.Kind.BIRTH, reference)
        earlier = _earlier_event(kind=LifeEvent.Kind.BIRTH, reference=reference)
        if earlier is not None:
            return earlier.citizen_id
    today = today or date.today()
    if registered_in not in PROVINCE_CODES:
        raise ValidationFailed(
            {
                "registered_in": _("Mã tỉnh %(registered_in)s không tồn tại")
                % {"registered_in": registered_in}
            }
        )
    citizen = Citizen(
        full_name=normalize_name(full_name),
        sex=sex,
        birth_date=birth_date,
        birth_place=birth_place,
        hometown=hometown,
        ethnicity=ethnicity,
        religion=religion,
        nationality=nationality,
        father_pin=father_pin,
        mother_pin=mother_pin,
    )
    _raise_if(_check_record(citizen, today=today))
    _insert_with_new_pin(citizen, province_code=registered_in)
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.BIRTH,
        occurred_on=birth_date,
        legal_basis=legal_basis,
        after=citizen_snapshot(citizen),
        reference=reference,
    )
    return citizen.pk


def _insert_with_new_pin(citizen: Citizen, *, province_code: str) -> None:
    """Draw random serials until one is free; the primary key settles races."""
    for _attempt in range(PIN_ATTEMPTS):
        citizen.pin = pin_random(
            province_code=province_code, sex=citizen.sex, birth_year=citizen.birth_date.year
        )
        try:
            with transaction.atomic():
                citizen.save(force_insert=True)
            return
        except IntegrityError:
            continue
    raise RuntimeError("no free PIN serial found; the year's number space is nearly full")


@transaction.atomic
def citizen_record_death(
    *,
    actor: Actor,
    pin: str,
    death_date: date,
    reason: str = "",
    legal_basis: str = gettext_noop("Luật Hộ tịch 2014, Điều 33"),
    today: date | None = None,
    reference: str = "",
) -> None:
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    citizen = _locked_citizen(pin)
    if _earlier_event(kind=LifeEvent.Kind.DEATH, reference=reference, pins=[citizen.pk]):
        return
    _require_living(citizen)
    before = {"death_date": None}
    citizen.death_date = death_date
    errors = _check_record(citizen, today=today or date.today())
    _raise_if({k: v for k, v in errors.items() if k == "death_date"})
    citizen.save(update_fields=["death_date"])
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.DEATH,
        occurred_on=death_date,
        legal_basis=legal_basis,
        reason=reason,
        before=before,
        after={"death_date": death_date.isoformat()},
        reference=reference,
    )


@transaction.atomic(durable=True)
def citizen_correct(
    *,
    actor: Actor,
    pin: str,
    changes: dict[str, str | None],
    reason: str,
    legal_basis: str = gettext_noop("Luật Hộ tịch 2014, Điều 26"),
    today: date | None = None,
) -> None:
    """Correct fields of a record (allowed also for a deceased person). Values are snapshot
    strings: dates as YYYY-MM-DD (birth date also YYYY-MM or YYYY)."""
    actor.require(CHANGE_PERMISSION)
    unknown = {
        f: _("Không được điều chỉnh trường này") for f in changes if f not in CORRECTABLE_FIELDS
    }
    if not reason.strip():
        unknown["reason"] = _("Phải nêu lý do điều chỉnh")
    _raise_if(unknown)
    citizen = _locked_citizen(pin)
    old = citizen_snapshot(citizen)
    values = {f: normalize_name(v) if f == "full_name" and v else v for f, v in changes.items()}
    _raise_if(_parse_errors(values))
    _apply(citizen, values)
    _raise_if(_check_record(citizen, today=today or date.today()))
    new = citizen_snapshot(citizen)
    changed = [f for f in changes if old[f] != new[f]]
    if not changed:
        raise ValidationFailed({f: _("Giá trị không thay đổi") for f in changes})
    citizen.save()
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.CORRECTION,
        occurred_on=today or date.today(),
        legal_basis=legal_basis,
        reason=reason,
        before={f: old[f] for f in changed},
        after={f: new[f] for f in changed},
    )


def _parse_errors(values: dict[str, str | None]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field in ("birth_date", "death_date"):
        value = values.get(field)
        if field in values and (value or field == "birth_date"):
            try:
                PartialDate.parse(value or "") if field == "birth_date" else date.fromisoformat(
                    value or ""
                )
            except ValueError as exc:
                errors[field] = str(exc)
    return errors


# --- marriage --------------------------------------------------------------------------------


@transaction.atomic
def marriage_register(
    *,
    actor: Actor,
    pin_a: str,
    pin_b: str,
    married_on: date,
    legal_basis: str = gettext_noop("Luật Hộ tịch 2014, Điều 18"),
    reference: str = "",
) -> None:
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    a, b = (_locked_citizen(pin) for pin in sorted([pin_a, pin_b]))
    if _earlier_event(kind=LifeEvent.Kind.MARRIAGE, reference=reference, pins=[a.pk, b.pk]):
        return
    errors: dict[str, str] = {}
    for field, person in (("pin_a", a), ("pin_b", b)):
        if not person.is_living:
            errors[field] = _("%(full_name)s đã mất") % {"full_name": person.full_name}
        elif person.spouse_pin:
            errors[field] = _("%(full_name)s đang có vợ/chồng") % {"full_name": person.full_name}
        elif age_on(person.birth_date, married_on) < MIN_MARRIAGE_AGE[person.sex]:
            errors[field] = _("%(full_name)s chưa đủ tuổi kết hôn (%(value)s)") % {
                "full_name": person.full_name,
                "value": MIN_MARRIAGE_AGE[person.sex],
            }
    if a.sex == b.sex:
        errors["pin_b"] = _("Luật không thừa nhận hôn nhân cùng giới")
    if _close_relatives(a, b):
        errors["pin_b"] = _("Hai người có quan hệ huyết thống trực hệ hoặc là anh chị em")
    _raise_if(errors)
    for person, spouse in ((a, b), (b, a)):
        person.spouse_pin = spouse.pk
        person.save(update_fields=["spouse_pin"])
        _record_event(
            actor=actor,
            citizen=person,
            kind=LifeEvent.Kind.MARRIAGE,
            occurred_on=married_on,
            legal_basis=legal_basis,
            before={"spouse_pin": ""},
            after={"spouse_pin": spouse.pk},
            reference=reference,
        )


def _close_relatives(a: Citizen, b: Citizen) -> bool:
    parents_a = {a.father_pin, a.mother_pin} - {""}
    parents_b = {b.father_pin, b.mother_pin} - {""}
    return a.pk in parents_b or b.pk in parents_a or bool(parents_a & parents_b)


@transaction.atomic(durable=True)
def divorce_register(
    *,
    actor: Actor,
    pin: str,
    divorced_on: date,
    reason: str = "",
    legal_basis: str = gettext_noop("Luật Hôn nhân và gia đình 2014, Điều 57"),
) -> None:
    actor.require(CHANGE_PERMISSION)
    citizen = _locked_citizen(pin)
    if not citizen.spouse_pin:
        raise ValidationFailed(
            {"pin": _("%(full_name)s không có vợ/chồng") % {"full_name": citizen.full_name}}
        )
    for person in (citizen, _locked_citizen(citizen.spouse_pin)):
        before = {"spouse_pin": person.spouse_pin}
        person.spouse_pin = ""
        person.save(update_fields=["spouse_pin"])
        _record_event(
            actor=actor,
            citizen=person,
            kind=LifeEvent.Kind.DIVORCE,
            occurred_on=divorced_on,
            legal_basis=legal_basis,
            reason=reason,
            before=before,
            after={"spouse_pin": ""},
        )


# --- residence and households ----------------------------------------------------------------


@dataclass(frozen=True)
class ResidenceMove:
    """Where a person moves. Permanent residence is always in a household: join `household_id`
    with a `relation`, or give `ward` and `address` to found a new household headed by the person."""

    kind: str
    since: date
    ward: str = ""
    address: str = ""
    household_id: int | None = None
    relation: str = ""


@transaction.atomic
def residence_move(
    *,
    actor: Actor,
    pin: str,
    move: ResidenceMove,
    reason: str = "",
    legal_basis: str = gettext_noop("Luật Cư trú 2020"),
    today: date | None = None,
    contact: ContactGiven | None = None,
    reference: str = "",
) -> None:
    """Register a residence. A `contact` the person gives at registration becomes their
    contact on record."""
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    citizen = _locked_citizen(pin)
    if _earlier_event(
        kind=LifeEvent.Kind.RESIDENCE,
        reference=reference,
        pins=[citizen.pk],
        after_key=f"{move.kind}_residence",
    ):
        return
    _require_living(citizen)
    _raise_if(_contact_errors(contact))
    household = _check_move(citizen, move, today=today or date.today())
    contact_before, contact_after = _record_contact(
        citizen, contact, ContactSource.RESIDENCE_REGISTRATION
    )
    before = _current_residence(citizen, move.kind)
    Residence.objects.filter(citizen=citizen, kind=move.kind, valid_to__isnull=True).update(
        valid_to=move.since
    )
    if move.kind == Residence.Kind.PERMANENT:
        household = household or _found_household(move)
        _change_household(
            citizen, household, relation=move.relation or Relation.HEAD, since=move.since
        )
    residence = Residence.objects.create(
        citizen=citizen,
        kind=move.kind,
        ward=household.ward if household else move.ward,
        address=household.address if household else normalize_name(move.address),
        household=household,
        valid_from=move.since,
    )
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.RESIDENCE,
        occurred_on=move.since,
        legal_basis=legal_basis,
        reason=reason,
        before={f"{move.kind}_residence": before, **contact_before},
        after={f"{move.kind}_residence": _residence_json(residence), **contact_after},
        reference=reference,
    )


def _check_move(citizen: Citizen, move: ResidenceMove, *, today: date) -> Household | None:
    """The rules of a move; returns the household being joined, if any."""
    errors: dict[str, str] = {}
    household = None
    if move.kind not in Residence.Kind.values:
        errors["kind"] = _("Loại cư trú là permanent hoặc temporary")
    if move.since > today:
        errors["since"] = _("Ngày ở tương lai")
    if move.since < citizen.birth_date:
        errors["since"] = _("Trước ngày sinh")
    current = Residence.objects.filter(
        citizen=citizen, kind=move.kind, valid_to__isnull=True
    ).first()
    if current and move.since < current.valid_from:
        errors["since"] = _("Trước ngày bắt đầu nơi ở hiện tại (%(valid_from)s)") % {
            "valid_from": current.valid_from
        }
    if move.household_id is not None:
        household = Household.objects.select_for_update().filter(pk=move.household_id).first()
        if move.kind != Residence.Kind.PERMANENT:
            errors["household_id"] = _("Chỉ đăng ký thường trú mới nhập hộ")
        elif household is None:
            errors["household_id"] = _("Không có hộ %(household_id)s") % {
                "household_id": move.household_id
            }
        if move.relation not in Relation.values or move.relation == Relation.HEAD:
            errors["relation"] = _("Chọn quan hệ với chủ hộ")
    else:
        if not move.address.strip():
            errors["address"] = _("Bắt buộc")
        if not move.ward or move.ward not in units_get([move.ward]):
            errors["ward"] = _("Không có đơn vị hành chính %(ward)s") % {"ward": move.ward}
    if move.kind == Residence.Kind.PERMANENT:
        errors.update(_check_leaving_household(citizen))
    _raise_if(errors)
    return household


def _check_leaving_household(citizen: Citizen) -> dict[str, str]:
    membership = HouseholdMember.objects.filter(citizen=citizen, left_on__isnull=True).first()
    if membership is None or membership.relation != Relation.HEAD:
        return {}
    others = HouseholdMember.objects.filter(
        household_id=membership.household_id, left_on__isnull=True
    ).exclude(citizen=citizen)
    if others.exists():
        return {"pin": _("Chủ hộ còn thành viên trong hộ; chọn chủ hộ mới trước")}
    return {}


def _found_household(move: ResidenceMove) -> Household:
    return Household.objects.create(
        ward=move.ward, address=normalize_name(move.address), created_on=move.since
    )


def _change_household(
    citizen: Citizen, household: Household, *, relation: str, since: date
) -> None:
    HouseholdMember.objects.filter(citizen=citizen, left_on__isnull=True).update(left_on=since)
    HouseholdMember.objects.create(
        household=household, citizen=citizen, relation=relation, joined_on=since
    )


def _current_residence(citizen: Citizen, kind: str) -> dict[str, Any] | None:
    residence = Residence.objects.filter(citizen=citizen, kind=kind, valid_to__isnull=True).first()
    return _residence_json(residence) if residence else None


def _residence_json(residence: Residence) -> dict[str, Any]:
    return {
        "ward": residence.ward,
        "address": residence.address,
        "household_id": residence.household_id,
        "valid_from": residence.valid_from.isoformat(),
    }


@transaction.atomic
def residence_delete(
    *,
    actor: Actor,
    pin: str,
    on: date,
    grounds: str,
    kind: str = "permanent",
    reason: str = "",
    legal_basis: str = gettext_noop("Luật Cư trú 2020, Điều 24"),
    reference: str = "",
) -> None:
    """Delete a person's residence registration of `kind` (xóa đăng ký cư trú): the current
    residence ends on `on` and, for permanent residence, so does the household membership.
    `grounds` is one of DeletionGrounds: "death" only for a person recorded dead (a living
    person's residence is never deleted for a death), any other grounds only for a living one.
    A household whose head leaves gets its default head (see _succeed_head)."""
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    citizen = _locked_citizen(pin)
    key = f"{kind}_residence"
    if _earlier_event(
        kind=LifeEvent.Kind.DEREGISTERED, reference=reference, pins=[citizen.pk], after_key=key
    ):
        return
    current = _check_deletion(citizen, on=on, grounds=grounds, kind=kind)
    before: dict[str, Any] = {key: _residence_json(current)}
    after: dict[str, Any] = {key: None, "grounds": grounds}
    current.valid_to = on
    current.save(update_fields=["valid_to"])
    membership = None
    if kind == Residence.Kind.PERMANENT:
        membership = (
            HouseholdMember.objects.select_for_update()
            .filter(citizen=citizen, left_on__isnull=True)
            .first()
        )
    if membership is not None:
        membership.left_on = on
        membership.save(update_fields=["left_on"])
        before["household"] = {
            "household_id": membership.household_id,
            "relation": membership.relation,
        }
        after["household"] = None
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.DEREGISTERED,
        occurred_on=on,
        legal_basis=legal_basis,
        reason=reason,
        before=before,
        after=after,
        reference=reference,
    )
    if membership is not None and membership.relation == Relation.HEAD:
        _succeed_head(
            actor=actor,
            household_id=membership.household_id,
            previous_head=citizen.pk,
            on=on,
            legal_basis=legal_basis,
            reference=reference,
        )


def _check_deletion(citizen: Citizen, *, on: date, grounds: str, kind: str) -> Residence:
    """The rules of a deletion; returns the (locked) residence that ends."""
    errors: dict[str, str] = {}
    names = {"full_name": citizen.full_name}
    if grounds not in DeletionGrounds.values:
        errors["grounds"] = _("Chọn căn cứ xóa đăng ký cư trú")
    elif grounds == DeletionGrounds.DEATH and citizen.is_living:
        errors["pin"] = (
            _(
                "%(full_name)s chưa được khai tử: không xóa đăng ký cư trú của người còn sống "
                "với lý do đã chết"
            )
            % names
        )
    elif grounds != DeletionGrounds.DEATH and not citizen.is_living:
        errors["pin"] = _(
            "%(full_name)s đã mất ngày %(death_date)s: căn cứ xóa đăng ký là người đã chết"
        ) % {**names, "death_date": _day(citizen.death_date or on)}
    current = None
    if kind not in Residence.Kind.values:
        errors["kind"] = _("Loại cư trú là permanent hoặc temporary")
    else:
        current = (
            Residence.objects.select_for_update()
            .filter(citizen=citizen, kind=kind, valid_to__isnull=True)
            .first()
        )
        if current is None:
            errors.setdefault(
                "pin",
                _("%(full_name)s không có nơi %(kind)s hiện tại")
                % {**names, "kind": Residence.Kind(kind).label},
            )
    if on > date.today():
        errors["on"] = _("Ngày ở tương lai")
    elif current is not None and on < current.valid_from:
        errors["on"] = _("Trước ngày bắt đầu nơi ở hiện tại (%(valid_from)s)") % {
            "valid_from": _day(current.valid_from)
        }
    _raise_if(errors)
    assert current is not None  # no errors: there is a current residence
    return current


def _succeed_head(
    *,
    actor: Actor,
    household_id: int,
    previous_head: str,
    on: date,
    legal_basis: str,
    reference: str,
) -> None:
    """A household whose head has left gets the law's default head until its members choose
    another (Luật Cư trú 2020, Điều 10): the oldest living member of full age (18), else the
    oldest living member; ties go to the lower PIN. Each remaining member's relation to the
    head is then read again from the registry's kinship links ("other" where they do not
    tell); every change is a life event and an audit row."""
    members = [
        m
        for m in HouseholdMember.objects.select_for_update(of=("self",))
        .filter(household_id=household_id, left_on__isnull=True)
        .select_related("citizen")
        if m.citizen.is_living
    ]
    if not members:
        return
    adults = [m for m in members if age_on(m.citizen.birth_date, on) >= FULL_AGE]
    head = min(adults or members, key=lambda m: (m.citizen.birth_date, m.citizen_id))
    # The new head first: one head per household at any moment.
    for member in sorted(members, key=lambda m: m is not head):
        if member is head:
            relation = Relation.HEAD
        else:
            relation = HOUSEHOLD_RELATION.get(
                kinship(head.citizen, member.citizen) or "", Relation.OTHER
            )
        if member.relation == relation:
            continue
        before = {"household_id": household_id, "relation": member.relation}
        member.relation = relation
        member.save(update_fields=["relation"])
        _record_event(
            actor=actor,
            citizen=member.citizen,
            kind=LifeEvent.Kind.HOUSEHOLD,
            occurred_on=on,
            legal_basis=legal_basis,
            before={**before, "head_pin": previous_head},
            after={"household_id": household_id, "relation": relation, "head_pin": head.citizen_id},
            reference=reference,
        )


# --- absences ----------------------------------------------------------------------------------


@transaction.atomic
def absence_declare(
    *,
    actor: Actor,
    pin: str,
    since: date,
    until: date,
    destination: str,
    reason: str,
    legal_basis: str = gettext_noop("Luật Cư trú 2020, Điều 31"),
    reference: str = "",
) -> None:
    """Record a declared absence (khai báo tạm vắng) from `since` until `until` (the day of
    return, after `since`): a living person, a destination, and no other absence of theirs
    overlapping."""
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    citizen = _locked_citizen(pin)
    if _earlier_event(kind=LifeEvent.Kind.ABSENCE, reference=reference, pins=[citizen.pk]):
        return
    _require_living(citizen)
    destination = normalize_name(destination)
    reason = unicodedata.normalize("NFC", reason.strip())
    errors: dict[str, str] = {}
    if not destination:
        errors["destination"] = _("Bắt buộc")
    elif len(destination) > DESTINATION_MAX:
        errors["destination"] = _("Tối đa %(max)s ký tự") % {"max": DESTINATION_MAX}
    if since < citizen.birth_date:
        errors["since"] = _("Trước ngày sinh")
    if until <= since:
        errors["until"] = _("Ngày kết thúc tạm vắng phải sau ngày bắt đầu")
    else:
        overlapping = (
            Absence.objects.filter(citizen=citizen, since__lt=until, until__gt=since)
            .order_by("since")
            .first()
        )
        if overlapping is not None:
            errors["since"] = _(
                "Đã khai báo tạm vắng từ %(since)s đến %(until)s, trùng thời gian này"
            ) % {"since": _day(overlapping.since), "until": _day(overlapping.until)}
    _raise_if(errors)
    Absence.objects.create(
        citizen=citizen,
        since=since,
        until=until,
        destination=destination,
        reason=reason,
        recorded_at=datetime.now(UTC),
    )
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.ABSENCE,
        occurred_on=since,
        legal_basis=legal_basis,
        reason=reason,
        after={
            "absence": {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "destination": destination,
            }
        },
        reference=reference,
    )


# --- contacts on record ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactGiven:
    """A phone number and/or e-mail address the person gives in person (at card issuance or
    residence registration); empty fields leave the contact on record as it is."""

    phone: str = ""
    email: str = ""


def normalize_phone(phone: str) -> str | None:
    """0xxxxxxxxx (10 digits; +84 accepted), or None when it is not a Vietnamese number."""
    digits = "".join(phone.split()).replace(".", "").replace("-", "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    return digits if digits.isdigit() and len(digits) == 10 and digits.startswith("0") else None


def normalize_email(email: str) -> str | None:
    email = unicodedata.normalize("NFC", email.strip()).lower()
    local, _at, domain = email.partition("@")
    ok = local and "." in domain.strip(".") and " " not in email and len(email) <= 254
    return email if ok and email.count("@") == 1 else None


def _contact_errors(contact: ContactGiven | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if contact is None:
        return errors
    if contact.phone and normalize_phone(contact.phone) is None:
        errors["contact.phone"] = _("Số điện thoại 10 chữ số")
    if contact.email and normalize_email(contact.email) is None:
        errors["contact.email"] = _("Địa chỉ thư điện tử không hợp lệ")
    return errors


def _record_contact(
    citizen: Citizen, contact: ContactGiven | None, source: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the contacts given (already checked) on the record; returns (before, after) of what
    changed, for the life event and the audit row."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if contact is None:
        return before, after
    now = datetime.now(UTC)
    fields: list[str] = []
    for kind, value in (
        ("phone", normalize_phone(contact.phone) if contact.phone else None),
        ("email", normalize_email(contact.email) if contact.email else None),
    ):
        if value is None:
            continue
        before[kind] = getattr(citizen, kind) or None
        after[kind] = value
        setattr(citizen, kind, value)
        setattr(citizen, f"{kind}_source", source)
        setattr(citizen, f"{kind}_recorded_at", now)
        fields += [kind, f"{kind}_source", f"{kind}_recorded_at"]
    if fields:
        citizen.save(update_fields=fields)
    return before, after


# --- ID cards --------------------------------------------------------------------------------


@transaction.atomic
def idcard_issue(
    *,
    actor: Actor,
    pin: str,
    issued_on: date,
    issued_by: str = gettext_noop("Cục Cảnh sát quản lý hành chính về trật tự xã hội"),
    legal_basis: str = gettext_noop("Luật Căn cước 2023, Điều 23"),
    contact: ContactGiven | None = None,
    reference: str = "",
) -> date | None:
    """Issue (or renew) the ID card; the old card is marked replaced. Returns the expiry date
    (again with the same `reference`: that card's, nothing written). A `contact` the person
    gives at the counter becomes their contact on record."""
    actor.require(CHANGE_PERMISSION)
    reference = _checked_reference(reference)
    citizen = _locked_citizen(pin)
    earlier = _earlier_event(kind=LifeEvent.Kind.CARD, reference=reference, pins=[citizen.pk])
    if earlier is not None:
        expires = earlier.after.get("card", {}).get("expires_on")
        return date.fromisoformat(expires) if expires else None
    _require_living(citizen)
    errors = _contact_errors(contact)
    if issued_on < citizen.birth_date:
        errors["issued_on"] = _("Trước ngày sinh")
    _raise_if(errors)
    contact_change = _record_contact(citizen, contact, ContactSource.CARD_ISSUANCE)
    IdCard.objects.filter(citizen=citizen, status=IdCard.Status.ACTIVE).update(
        status=IdCard.Status.REPLACED
    )
    expires_on = card_expiry(birth_date=citizen.birth_date, issued_on=issued_on)
    IdCard.objects.create(
        citizen=citizen, issued_on=issued_on, expires_on=expires_on, issued_by=issued_by
    )
    _record_event(
        actor=actor,
        citizen=citizen,
        kind=LifeEvent.Kind.CARD,
        occurred_on=issued_on,
        legal_basis=legal_basis,
        before=contact_change[0] or None,
        after={
            "card": {
                "issued_on": issued_on.isoformat(),
                "expires_on": expires_on.isoformat() if expires_on else None,
            },
            **contact_change[1],
        },
        reference=reference,
    )
    return expires_on


# --- rebuilding the record from its events ---------------------------------------------------


def citizen_fold(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The record that a sequence of event `after` values describes."""
    record: dict[str, Any] = {}
    for after in events:
        record.update({k: v for k, v in after.items() if k in CITIZEN_FIELDS})
    return record


CITIZEN_FIELDS = frozenset(CORRECTABLE_FIELDS) | {"spouse_pin"}


@transaction.atomic(durable=True)
def citizen_rebuild(*, actor: Actor, pin: str) -> list[str]:
    """Derive the record again from its life events; returns the fields that had drifted
    (and have now been restored)."""
    actor.require(CHANGE_PERMISSION)
    citizen = _locked_citizen(pin)
    afters = list(
        LifeEvent.objects.filter(citizen=citizen).order_by("id").values_list("after", flat=True)
    )
    derived = citizen_fold(afters)
    current = citizen_snapshot(citizen)
    drifted = sorted(f for f, v in derived.items() if current.get(f) != v)
    if drifted:
        _apply(citizen, {f: derived[f] for f in drifted})
        citizen.save()
        audit_record(
            actor=actor,
            action="registry.rebuild",
            object_type="citizen",
            object_id=pin,
            reason="rebuilt from life events",
            before={f: current[f] for f in drifted},
            after={f: derived[f] for f in drifted},
        )
    return drifted
