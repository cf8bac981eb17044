"""Reads from the population registry. Each read of a person's data by someone other than that
person leaves an access-log row; results are plain dataclasses."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.errors import NotFound, ValidationFailed
from motcua.geo import selectors as geo
from motcua.geo.selectors import UnitInfo, units_get
from motcua.registry.dates import PartialDate as PartialDate  # re-exported: the registry's dates
from motcua.registry.dates import add_years as add_years  # re-exported
from motcua.registry.dates import age_on as age_on  # re-exported
from motcua.registry.kinship import kinship
from motcua.registry.models import (
    Citizen,
    ContactSource,
    DeletionGrounds,
    Household,
    HouseholdMember,
    IdCard,
    LifeEvent,
    Relation,
    Residence,
    Sex,
)
from motcua.registry.pin import PROVINCE_CODES, InvalidPin
from motcua.registry.pin import pin_parse as pin_parse  # re-exported

VIEW_PERMISSION = "registry.view_citizen"


# --- labels: what a page shows instead of a code ----------------------------------------------


def _label(choices: type[Sex] | type[Relation] | type[ContactSource], code: str | None) -> str:
    return str(choices(code).label) if code in choices.values else (code or "")


def sex_label(sex: str) -> str:
    """M/F in words: "Nam", "Nữ" (or "Male", "Female" in English)."""
    return _label(Sex, sex)


def life_event_label(kind: str) -> str:
    """A life event's kind in words ("khai sinh" for `birth`)."""
    return str(LifeEvent.Kind(kind).label) if kind in LifeEvent.Kind.values else kind


def residence_kind_label(kind: str) -> str:
    """`permanent` / `temporary` in words."""
    return str(Residence.Kind(kind).label) if kind in Residence.Kind.values else kind


def relation_label(relation: str | None) -> str:
    """A household member's relation to the head in words."""
    return _label(Relation, relation)


def contact_source_label(source: str) -> str:
    return _label(ContactSource, source)


def deletion_grounds_label(grounds: str) -> str:
    """Why a residence registration was deleted, in words (Luật Cư trú 2020, Điều 24)."""
    return str(DeletionGrounds(grounds).label) if grounds in DeletionGrounds.values else grounds


def citizen_status_label(status: str) -> str:
    return _("Đã mất") if status == "deceased" else _("Còn sống")


def partial_date_label(value: str) -> str:
    """A registry date as people write it: 17/05/1956, 05/1956 or 1956 (not ISO)."""
    parts = value.split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else value


def age_from_partial_date(birth_date: str, *, on: date) -> int:
    """The youngest a person born on `birth_date` (YYYY-MM-DD, YYYY-MM or YYYY) can be on
    `on`; ValueError for a malformed date."""
    return age_on(PartialDate.parse(birth_date).latest, on)


@dataclass(frozen=True)
class ResidenceView:
    kind: str
    ward: str
    ward_name: str
    address: str
    household_id: int | None
    valid_from: date
    valid_to: date | None

    @property
    def kind_label(self) -> str:
        return residence_kind_label(self.kind)


@dataclass(frozen=True)
class CardView:
    number: str
    issued_on: date
    expires_on: date | None
    issued_by: str


@dataclass(frozen=True)
class CitizenRecord:
    pin: str
    full_name: str
    sex: str
    birth_date: str
    birth_place: str
    birth_place_name: str
    hometown: str
    hometown_name: str
    ethnicity: str
    religion: str
    nationality: str
    father_pin: str
    mother_pin: str
    spouse_pin: str
    cmnd: str | None
    status: str
    death_date: date | None
    residences: list[ResidenceView] = field(default_factory=list)
    card: CardView | None = None
    household_id: int | None = None
    relation_to_head: str | None = None

    @property
    def sex_label(self) -> str:
        return sex_label(self.sex)

    @property
    def status_label(self) -> str:
        return citizen_status_label(self.status)

    @property
    def birth_date_label(self) -> str:
        return partial_date_label(self.birth_date)

    @property
    def relation_to_head_label(self) -> str:
        return relation_label(self.relation_to_head)


@dataclass(frozen=True)
class SearchHit:
    pin: str
    full_name: str
    sex: str
    birth_date: str
    birth_place: str
    score: float

    @property
    def sex_label(self) -> str:
        return sex_label(self.sex)

    @property
    def birth_date_label(self) -> str:
        return partial_date_label(self.birth_date)


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    occurred_on: date
    recorded_at: str
    actor: str
    legal_basis: str
    reason: str
    before: dict[str, object]
    after: dict[str, object]

    @property
    def kind_label(self) -> str:
        return life_event_label(self.kind)


@dataclass(frozen=True)
class HouseholdMemberView:
    pin: str
    full_name: str
    relation: str
    joined_on: date

    @property
    def relation_label(self) -> str:
        return relation_label(self.relation)


@dataclass(frozen=True)
class HouseholdView:
    id: int
    ward: str
    ward_name: str
    address: str
    members: list[HouseholdMemberView]


@dataclass(frozen=True)
class RenewalDue:
    pin: str
    full_name: str
    expires_on: date


def citizen_not_found(pin: str) -> NotFound:
    return NotFound(_("Không có công dân với số định danh %(pin)s") % {"pin": pin})


def _checked_pin(pin: str) -> str:
    try:
        pin_parse(pin)
    except InvalidPin as exc:
        raise ValidationFailed({"pin": str(exc)}) from None
    return pin


def _authorised(actor: Actor, purpose: str) -> None:
    actor.require(VIEW_PERMISSION)
    _purpose_given(purpose)


def _purpose_given(purpose: str) -> None:
    if len(purpose.strip()) < 3:
        raise ValidationFailed({"purpose": _("Phải nêu mục đích truy cập")})


def _may_read(actor: Actor, pin: str, purpose: str) -> None:
    """A person may always read their own record; anyone else needs the permission."""
    if actor.pin != pin:
        _authorised(actor, purpose)


# The whole current record in one round trip: the lookup is the registry's hottest path.
_CITIZEN_SQL = """
SELECT c.pin, c.full_name, c.sex, c.birth_date, c.birth_date_precision, c.birth_place,
       c.hometown, c.ethnicity, c.religion, c.nationality, c.father_pin, c.mother_pin,
       c.spouse_pin, c.cmnd, c.death_date,
       m.household_id, m.relation, card.issued_on, card.expires_on, card.issued_by,
       (SELECT json_agg(json_build_object('kind', r.kind, 'ward', r.ward, 'address', r.address,
                                          'household_id', r.household_id,
                                          'valid_from', r.valid_from) ORDER BY r.kind)
          FROM registry_residence r WHERE r.citizen_pin = c.pin AND r.valid_to IS NULL)
FROM registry_citizen c
LEFT JOIN registry_householdmember m ON m.citizen_pin = c.pin AND m.left_on IS NULL
LEFT JOIN registry_idcard card ON card.citizen_pin = c.pin AND card.status = 'active'
WHERE c.pin = %s
"""


def citizen_get(*, actor: Actor, pin: str, purpose: str) -> CitizenRecord:
    _may_read(actor, _checked_pin(pin), purpose)
    with connection.cursor() as cursor:
        cursor.execute(_CITIZEN_SQL, [pin])
        row = cursor.fetchone()
    if row is None:
        raise citizen_not_found(pin)
    (_, full_name, sex, born, precision, birth_place, hometown, ethnicity, religion, nationality,
     father_pin, mother_pin, spouse_pin, cmnd, death_date, household_id, relation,
     card_issued, card_expires, card_issuer, residences) = row  # fmt: skip
    residences = residences or []
    places = units_get([birth_place, hometown, *(r["ward"] for r in residences)])
    access_log_record(actor=actor, subject_pins=[pin], data="registry.citizen", purpose=purpose)
    return CitizenRecord(
        pin=pin,
        full_name=full_name,
        sex=sex,
        birth_date=str(PartialDate(born, precision)),
        birth_place=birth_place,
        birth_place_name=_name(places, birth_place),
        hometown=hometown,
        hometown_name=_name(places, hometown),
        ethnicity=ethnicity,
        religion=religion,
        nationality=nationality,
        father_pin=father_pin,
        mother_pin=mother_pin,
        spouse_pin=spouse_pin,
        cmnd=cmnd,
        status="living" if death_date is None else "deceased",
        death_date=death_date,
        residences=[
            ResidenceView(
                kind=r["kind"],
                ward=r["ward"],
                ward_name=_name(places, r["ward"]),
                address=r["address"],
                household_id=r["household_id"],
                valid_from=date.fromisoformat(r["valid_from"]),
                valid_to=None,
            )
            for r in residences
        ],
        card=CardView(pin, card_issued, card_expires, card_issuer) if card_issued else None,
        household_id=household_id,
        relation_to_head=relation,
    )


def _name(places: Mapping[str, UnitInfo], key: str) -> str:
    unit = places.get(key)
    return unit.full_name if unit else ""


# Ranked, accent-insensitive, typo-tolerant: trigram similarity of the folded names, with bonuses
# for the exact accented name, the exact date of birth and the place of birth or hometown.
# With a date of birth, the candidates are the people born on the dates a clerk could mean (a few
# dozen rows per million, found by the b-tree on birth_date), each scored; without one, the
# trigram index finds them.
_SEARCH_SQL = """
SELECT pin, full_name, sex, birth_date, birth_date_precision, birth_place,
       similarity(motcua_fold(full_name), motcua_fold(%(name)s))
       + CASE WHEN full_name = %(name)s THEN 0.2 ELSE 0 END
       + CASE WHEN birth_date = %(birth_date)s THEN 0.3 ELSE 0 END
       + CASE WHEN %(place)s <> '' AND %(place)s IN (birth_place, hometown) THEN 0.1 ELSE 0 END
       AS score
FROM registry_citizen
WHERE {candidates}
ORDER BY score DESC, pin
LIMIT %(limit)s
"""
_BY_DATES = (
    "birth_date = ANY(%(dates)s)"
    " AND similarity(motcua_fold(full_name), motcua_fold(%(name)s)) >= %(threshold)s"
)
_BY_NAME = "motcua_fold(full_name) %% motcua_fold(%(name)s)"
NAME_THRESHOLD = 0.3  # pg_trgm's default for the % operator


def _dates_meant(partial: PartialDate) -> list[date]:
    """The stored birth dates that may belong to someone born on `partial`: the date itself, day
    and month swapped, the same day a year either side, and the first day of its month and year
    (how dates known only to the month or year are stored). A month or a year means every day."""
    value = partial.value
    if partial.precision == "year":
        first, last = value, date(value.year, 12, 31)
    elif partial.precision == "month":
        first, last = value, partial.latest
    else:
        first = last = value
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    near = [
        add_years(value, -1),
        add_years(value, 1),
        value.replace(day=1),
        value.replace(month=1, day=1),
    ]
    if partial.precision == "day" and value.day <= 12:
        near.append(date(value.year, value.day, value.month))
    return sorted(set(days + near))


def citizen_search(
    *,
    actor: Actor,
    purpose: str,
    name: str,
    birth_date: str = "",
    place: str = "",
    limit: int = 20,
) -> list[SearchHit]:
    """Search by name (+ date of birth, + place). A date narrows the candidates to the dates a
    clerk could mean (day and month swapped, a year off, a date known only to the year), and an
    exact date ranks higher."""
    _authorised(actor, purpose)
    errors: dict[str, str] = {}
    if len(name.strip()) < 3:
        errors["name"] = _("Nhập ít nhất 3 ký tự")
    partial = None
    if birth_date:
        try:
            partial = PartialDate.parse(birth_date)
        except ValueError as exc:
            errors["birth_date"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    params = {
        "name": " ".join(name.split()),
        "birth_date": partial.value if partial and partial.precision == "day" else None,
        "place": place,
        "dates": _dates_meant(partial) if partial else None,
        "limit": max(1, min(limit, 100)),
        "threshold": NAME_THRESHOLD,
    }
    query = _SEARCH_SQL.format(candidates=_BY_DATES if partial else _BY_NAME)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    hits = [
        SearchHit(
            pin,
            full_name,
            sex,
            str(PartialDate(born, precision)),
            birth_place,
            round(float(score), 3),
        )
        for pin, full_name, sex, born, precision, birth_place, score in rows
    ]
    access_log_record(
        actor=actor, subject_pins=[h.pin for h in hits], data="registry.search", purpose=purpose
    )
    return hits


def citizen_history(*, actor: Actor, pin: str, purpose: str) -> list[EventView]:
    _may_read(actor, _checked_pin(pin), purpose)
    if not Citizen.objects.filter(pk=pin).exists():
        raise citizen_not_found(pin)
    events = [
        EventView(
            e.pk,
            e.kind,
            e.occurred_on,
            e.recorded_at.isoformat(),
            e.actor,
            e.legal_basis,
            e.reason,
            e.before,
            e.after,
        )
        for e in LifeEvent.objects.filter(citizen_id=pin).order_by("id")
    ]
    access_log_record(actor=actor, subject_pins=[pin], data="registry.history", purpose=purpose)
    return events


def household_of(*, actor: Actor, pin: str, purpose: str) -> HouseholdView:
    """The current household of a person, with its members."""
    _may_read(actor, _checked_pin(pin), purpose)
    membership = (
        HouseholdMember.objects.select_related("household")
        .filter(citizen_id=pin, left_on__isnull=True)
        .first()
    )
    if membership is None:
        raise NotFound(_("%(pin)s không thuộc hộ nào") % {"pin": pin})
    household = membership.household
    members = list(
        HouseholdMember.objects.filter(household=household, left_on__isnull=True)
        .select_related("citizen")
        .order_by("joined_on", "citizen_id")
    )
    access_log_record(
        actor=actor,
        subject_pins=[m.citizen_id for m in members],
        data="registry.household",
        purpose=purpose,
    )
    return HouseholdView(
        id=household.pk,
        ward=household.ward,
        ward_name=_name(units_get([household.ward]), household.ward),
        address=household.address,
        members=[
            HouseholdMemberView(m.citizen_id, m.citizen.full_name, m.relation, m.joined_on)
            for m in members
        ],
    )


def cards_due_for_renewal(
    *, actor: Actor, within_days: int, purpose: str, today: date | None = None, limit: int = 1000
) -> list[RenewalDue]:
    """Living people whose active card must be renewed within the next `within_days` days."""
    _authorised(actor, purpose)
    if not 0 <= within_days <= 3660:
        raise ValidationFailed({"within_days": _("Từ 0 đến 3660 ngày")})
    today = today or date.today()
    rows = (
        IdCard.objects.filter(
            status=IdCard.Status.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=within_days),
            citizen__death_date__isnull=True,
        )
        .order_by("expires_on", "citizen_id")
        .values_list("citizen_id", "citizen__full_name", "expires_on")[:limit]
    )
    due = [RenewalDue(pin, name, expires) for pin, name, expires in rows if expires]
    access_log_record(
        actor=actor, subject_pins=[d.pin for d in due], data="registry.card_due", purpose=purpose
    )
    return due


@dataclass(frozen=True)
class RegistryStats:
    citizens: int
    living: int
    households: int
    active_cards: int


def registry_stats() -> RegistryStats:
    """Counts only, no personal data: for dashboards and the demo banner."""
    counts = Citizen.objects.aggregate(
        citizens=Count("pk"), living=Count("pk", filter=Q(death_date__isnull=True))
    )
    return RegistryStats(
        citizens=counts["citizens"],
        living=counts["living"],
        households=Household.objects.count(),
        active_cards=IdCard.objects.filter(status=IdCard.Status.ACTIVE).count(),
    )


def household_heads(*, limit: int) -> list[tuple[str, str]]:
    """(PIN, name) of living heads of households, in PIN order: stable picks for demos and
    benchmarks. Names only, so no access-log row."""
    return list(
        HouseholdMember.objects.filter(
            relation="head", left_on__isnull=True, citizen__death_date__isnull=True
        )
        .order_by("citizen_id")
        .values_list("citizen_id", "citizen__full_name")[:limit]
    )


# Identity verification: the registry compares claimed facts with its own and answers per field,
# never with the data itself (eKYC for partners, and e-ID self-registration).
VERIFY_PERMISSION = "registry.verify_citizen"
MATCH, NO_MATCH, NOT_CHECKED = "match", "no_match", "not_checked"

_VERIFY_SQL = """
SELECT c.full_name, c.birth_date, c.birth_date_precision, c.sex, c.death_date, c.cmnd,
       EXISTS (SELECT 1 FROM registry_idcard k WHERE k.citizen_pin = c.pin
               AND k.status = 'active' AND (k.expires_on IS NULL OR k.expires_on >= %s))
FROM registry_citizen c WHERE c.pin = %s
"""


@dataclass(frozen=True)
class IdentityClaim:
    pin: str
    full_name: str
    birth_date: str  # YYYY-MM-DD, YYYY-MM or YYYY
    card_number: str | None = None


@dataclass(frozen=True)
class Verification:
    pin: str
    full_name: str
    birth_date: str
    card_number: str
    alive: bool | None  # None: unknown PIN, or the name or the birth date does not match

    @property
    def matches(self) -> bool:
        """Every checked field agrees and the person is alive."""
        fields = (self.pin, self.full_name, self.birth_date)
        return all(f == MATCH for f in fields) and self.card_number != NO_MATCH and bool(self.alive)


def name_key(name: str) -> str:
    """Names compare in NFC, case- and spacing-insensitively, but with their diacritics."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def citizen_verify(*, actor: Actor, claim: IdentityClaim, purpose: str) -> Verification:
    """Match or no-match per claimed field, and whether the person is alive, answered so that
    the answers give away no more than the caller already knows:

    - the birth date is compared only when the name matches (otherwise `not_checked`), so that
      a date can not be found by trying every day of a year with any name;
    - the card number, and whether the person is alive, only when the PIN, the name and the
      birth date all match (otherwise `not_checked` and `alive=None`)."""
    if actor.pin != claim.pin:
        actor.require(VERIFY_PERMISSION)
    _checked_pin(claim.pin)
    try:
        claimed_birth = PartialDate.parse(claim.birth_date)
    except ValueError as exc:
        raise ValidationFailed({"birth_date": str(exc)}) from None
    with connection.cursor() as cursor:
        cursor.execute(_VERIFY_SQL, [date.today(), claim.pin])
        row = cursor.fetchone()
    if row is None:
        return Verification(NO_MATCH, NOT_CHECKED, NOT_CHECKED, NOT_CHECKED, alive=None)
    full_name, born, precision, _sex, death_date, cmnd, card_valid = row
    access_log_record(
        actor=actor, subject_pins=[claim.pin], data="registry.verification", purpose=purpose
    )
    name_agrees = name_key(claim.full_name) == name_key(full_name)
    birth_agrees = name_agrees and claimed_birth == PartialDate(born, precision)
    birth_verdict = _verdict(birth_agrees) if name_agrees else NOT_CHECKED
    return Verification(
        pin=MATCH,
        full_name=_verdict(name_agrees),
        birth_date=birth_verdict,
        card_number=_card_verdict(claim, cmnd, card_valid) if birth_agrees else NOT_CHECKED,
        alive=death_date is None if birth_agrees else None,
    )


def _verdict(agrees: bool) -> str:
    return MATCH if agrees else NO_MATCH


def _card_verdict(claim: IdentityClaim, cmnd: str | None, card_valid: bool) -> str:
    """A chip card's number is the PIN; an old 9-digit CMND number is accepted too."""
    if not claim.card_number:
        return NOT_CHECKED
    number = claim.card_number.strip()
    return _verdict((number == claim.pin and card_valid) or (cmnd is not None and number == cmnd))


# Batch linkage of sector databases compares these facts; the bulk read goes to a file through
# COPY (a million citizens in seconds) and is audited by the caller as one job.
LINKAGE_COLUMNS = (
    "pin", "full_name", "sex", "birth_date", "birth_date_precision", "cmnd", "death_date",
    "ward", "address",
)  # fmt: skip
_LINKAGE_SQL = """
COPY (
  SELECT c.pin, c.full_name, c.sex, c.birth_date, c.birth_date_precision, c.cmnd, c.death_date,
         r.ward, r.address
  FROM registry_citizen c
  LEFT JOIN LATERAL (
    SELECT ward, address FROM registry_residence
    WHERE citizen_pin = c.pin AND valid_to IS NULL ORDER BY kind LIMIT 1
  ) r ON true
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""


def linkage_extract(*, actor: Actor, path: str, purpose: str) -> None:
    """Write every citizen's linkage facts (LINKAGE_COLUMNS) to a CSV file at `path`: the
    current residence is the permanent one, else the temporary one."""
    _authorised(actor, purpose)
    with (
        connection.cursor() as cursor,
        open(path, "wb") as out,
        cursor.connection.cursor().copy(_LINKAGE_SQL) as copy,
    ):
        for chunk in copy:
            out.write(chunk)


# Contacts on record: where a one-time code may prove that a person registering an e-ID is who
# they claim to be. Read by the identity app, which logs the access itself.
@dataclass(frozen=True)
class ContactOnRecord:
    kind: str  # "phone" or "email"
    value: str
    masked: str  # what may be shown to someone not yet proven to be the person
    source: str  # "card_issuance" or "residence_registration"
    recorded_at: datetime | None

    @property
    def source_label(self) -> str:
        return contact_source_label(self.source)


def mask_phone(phone: str) -> str:
    """0912345612 -> 09******12."""
    return phone[:2] + "*" * max(0, len(phone) - 4) + phone[-2:] if len(phone) > 4 else "****"


def mask_email(email: str) -> str:
    """nguyen.van.an@gmail.com -> ng***@gmail.com."""
    local, _at, domain = email.partition("@")
    return f"{local[:2]}***@{domain}"


_CONTACT_FIELDS = (
    "phone", "phone_source", "phone_recorded_at", "email", "email_source", "email_recorded_at",
)  # fmt: skip


def citizen_contacts_on_record(*, pin: str) -> list[ContactOnRecord]:
    """The phone and e-mail the person gave in person (card issuance, residence registration),
    phone first; empty for an unknown PIN or a person without any. No access-log row: the
    caller records the access."""
    _checked_pin(pin)
    row = Citizen.objects.filter(pk=pin).values_list(*_CONTACT_FIELDS).first()
    if row is None:
        return []
    phone, phone_source, phone_at, email, email_source, email_at = row
    contacts = []
    if phone:
        contacts.append(ContactOnRecord("phone", phone, mask_phone(phone), phone_source, phone_at))
    if email:
        contacts.append(ContactOnRecord("email", email, mask_email(email), email_source, email_at))
    return contacts


# A person named in someone else's declaration (a child's mother or father, the deceased, ...):
# the registry says what is wrong with the reference, never what it holds.
_PERSON_SQL = "SELECT full_name, death_date FROM registry_citizen WHERE pin = %s"


def person_reference_problem(
    *,
    actor: Actor,
    pin: str,
    sex: str | None = None,
    full_name: str | None = None,
    purpose: str,
    living: bool = True,
) -> str | None:
    """What is wrong with a PIN a declaration gives for another person, or None:

    - not a PIN (12 digits, a known province, a valid century/sex digit);
    - the wrong sex for the role (`sex` "F" for a mother: the century/sex digit tells, so a
      man's PIN given as a mother's is refused without reading the registry);
    - nobody in the registry has it;
    - the name given beside it is not that person's (compared like `name_key`);
    - with `living` (the default), the person has been recorded dead: said only after the
      name matched, and nothing more (pass living=False for the deceased of a death
      registration).

    A registry hit leaves an access-log row for the person named, with `purpose`."""
    try:
        info = pin_parse(pin)
    except InvalidPin as exc:
        return str(exc)
    if sex == "F" and info.sex != "F":
        return _("Số định danh này là của một người nam, không thể là của mẹ")
    if sex == "M" and info.sex != "M":
        return _("Số định danh này là của một người nữ, không thể là của cha")
    with connection.cursor() as cursor:
        cursor.execute(_PERSON_SQL, [pin])
        row = cursor.fetchone()
    if row is None:
        return _("Không có công dân với số định danh %(pin)s") % {"pin": pin}
    access_log_record(actor=actor, subject_pins=[pin], data="registry.reference", purpose=purpose)
    if full_name and name_key(full_name) != name_key(row[0]):
        return _("Họ tên không khớp với số định danh %(pin)s") % {"pin": pin}
    if living and row[1] is not None:
        return _("Người có số định danh %(pin)s đã được khai tử") % {"pin": pin}
    return None


# --- life events as signals --------------------------------------------------------------------


@dataclass(frozen=True)
class LifeEventRef:
    """A life event without its content: who, what kind, when, caused by which act."""

    id: int
    pin: str
    kind: str
    occurred_on: date
    reference: str

    @property
    def kind_label(self) -> str:
        return life_event_label(self.kind)


_REF_FIELDS = ("id", "citizen_id", "kind", "occurred_on", "reference")
LIFE_EVENTS_PAGE_MAX = 10_000


def life_events_since(
    *, after_id: int, kinds: Collection[str] | None = None, limit: int = 1000
) -> list[LifeEventRef]:
    """The life events recorded after the event `after_id` (of `kinds`, when given), oldest
    first, at most `limit` (1 to 10,000): a cursor for the platform's own proactive-services
    job, which keeps the last id it has seen. System use only, and no access-log row: nobody
    reads the person's data here, the job only reacts to the kind of event (whatever it then
    reads of the person, it reads through a logged selector)."""
    events = LifeEvent.objects.filter(id__gt=after_id)
    if kinds is not None:
        events = events.filter(kind__in=list(kinds))
    rows = events.order_by("id").values_list(*_REF_FIELDS)
    return [LifeEventRef(*row) for row in rows[: max(1, min(limit, LIFE_EVENTS_PAGE_MAX))]]


def life_events_by_reference(*, reference: str) -> list[LifeEventRef]:
    """The registry changes an act made (a dossier's code), oldest first; none for an empty
    reference. No access-log row: the caller (the dossier's page) records the access."""
    reference = reference.strip()
    if not reference:
        return []
    rows = LifeEvent.objects.filter(reference=reference).order_by("id").values_list(*_REF_FIELDS)
    return [LifeEventRef(*row) for row in rows]


# --- where a birth is registered: the PIN's province code --------------------------------------

_province_pin_codes: dict[str, str] = {}


def pin_province_code(unit_code: str) -> str:
    """The 3-digit province code of the PIN of a child whose birth is registered by an agency
    serving `unit_code`: a 2025 ward or province key, a pre-2025 unit key, or a PIN province
    code itself ("087").

    PIN province codes are the pre-2025 provinces' (DOMAIN.md §1), and the 2025 merger did not
    renumber them (§2), so a 2025 unit needs the old province it belongs to:
    - a pre-2025 unit: its own province;
    - a 2025 ward that kept the code of an old ward the mapping names as its predecessor: that
      old ward's province (the births of Mỹ Tho are still registered under 082, those of Cao
      Lãnh under 087, both now in Đồng Tháp);
    - otherwise (a 2025 province, a ward without such a link): the old province whose code the
      2025 province kept (Resolution 202/2025/QH15 keeps one predecessor's code: 2025:82
      Đồng Tháp gives 082, Tiền Giang's), else the lowest code among the old provinces merged
      into it.
    ValidationFailed (field `registered_in`) for an unknown unit."""
    key = unit_code.strip()
    if key in PROVINCE_CODES:
        return key
    unit = geo.unit_get(key) if key else None
    code = None
    if unit is not None and unit.scheme == geo.Scheme.PRE2025:
        code = _legacy_pin_code(unit.province_key)
    elif unit is not None:
        code = (_ward_origin(unit) if unit.level == geo.Level.WARD else None) or _province_code(
            unit.province_key
        )
    if code is None:
        raise ValidationFailed(
            {
                "registered_in": _("Không xác định được mã tỉnh nơi đăng ký khai sinh của %(unit)s")
                % {"unit": unit.full_name if unit else key}
            }
        )
    return code


def _legacy_pin_code(old_province_key: str) -> str | None:
    code = old_province_key.partition(":")[2].zfill(3)
    return code if code in PROVINCE_CODES else None


def _ward_origin(ward: UnitInfo) -> str | None:
    old = geo.unit_get(f"{geo.Scheme.PRE2025}:{ward.code}")
    if old is None or old.level != geo.Level.WARD:
        return None
    if ward.key not in {u.key for u in geo.unit_current(old.key)}:
        return None
    return _legacy_pin_code(old.province_key)


def _merged_into(pin_code: str, province_key: str) -> bool:
    """Whether the old province of `pin_code` became (part of) the 2025 province."""
    old = geo.legacy_province_by_pin_code(pin_code)
    return old is not None and [u.key for u in geo.unit_current(old.key)] == [province_key]


def _province_code(province_key: str) -> str | None:
    """Master data: computed once per process for each 2025 province."""
    if province_key not in _province_pin_codes:
        province = geo.unit_get(province_key)
        kept = province.code.zfill(3) if province else ""
        if kept in PROVINCE_CODES and _merged_into(kept, province_key):
            _province_pin_codes[province_key] = kept
        else:
            found = next(
                (code for code in sorted(PROVINCE_CODES) if _merged_into(code, province_key)),
                None,
            )
            if found is None:
                return None
            _province_pin_codes[province_key] = found
    return _province_pin_codes[province_key]


# --- kinship -----------------------------------------------------------------------------------


def relation_between(*, actor: Actor, pin: str, other_pin: str, purpose: str) -> str | None:
    """How `other_pin` stands to `pin` by the registry's own links: "self", "spouse", "child"
    (other's mother or father is `pin`), "parent", "sibling" (a parent in common),
    "grandchild", "grandparent"; None when the links do not say or a PIN is not in the
    registry. Only the relation is told. A person may ask about themselves (`pin` is the
    actor's own); anyone else needs the view permission. Access-log rows for both people."""
    if actor.pin != pin:
        actor.require(VIEW_PERMISSION)
    _purpose_given(purpose)
    _checked_pin(pin)
    try:
        pin_parse(other_pin)
    except InvalidPin as exc:
        raise ValidationFailed({"other_pin": str(exc)}) from None
    if pin == other_pin:
        return "self"
    people = {
        c.pk: c
        for c in Citizen.objects.filter(pk__in=[pin, other_pin]).only(
            "pin", "mother_pin", "father_pin", "spouse_pin"
        )
    }
    if len(people) < 2:
        return None
    access_log_record(
        actor=actor, subject_pins=[pin, other_pin], data="registry.relation", purpose=purpose
    )
    return kinship(people[pin], people[other_pin])


@dataclass(frozen=True)
class ChildView:
    pin: str
    full_name: str
    birth_date: str  # YYYY-MM-DD, YYYY-MM or YYYY
    sex: str

    @property
    def birth_date_label(self) -> str:
        return partial_date_label(self.birth_date)

    @property
    def sex_label(self) -> str:
        return sex_label(self.sex)


def children_of(*, actor: Actor, pin: str, purpose: str) -> list[ChildView]:
    """The living children the registry links to `pin` as their mother or father, oldest
    first. A person may read their own children (their e-ID documents) without an access-log
    row; anyone else needs the view permission and leaves a row for each child."""
    _may_read(actor, _checked_pin(pin), purpose)
    rows = (
        Citizen.objects.filter(Q(mother_pin=pin) | Q(father_pin=pin), death_date__isnull=True)
        .order_by("birth_date", "pin")
        .values_list("pin", "full_name", "birth_date", "birth_date_precision", "sex")
    )
    children = [
        ChildView(child, full_name, str(PartialDate(born, precision)), sex)
        for child, full_name, born, precision, sex in rows
    ]
    if actor.pin != pin:
        access_log_record(
            actor=actor,
            subject_pins=[c.pin for c in children],
            data="registry.children",
            purpose=purpose,
        )
    return children
