"""A synthetic population for demos and benchmarks: generation and bulk loading.

Generation is pure and deterministic for a seed (given the day and the registry's contents): it
builds households of related people (couples, children, grandparents, people living alone) on
the real wards of one province and yields self-contained batches of rows. Loading copies each
batch with PostgreSQL COPY in its own transaction and writes one audit row with the last batch.

Every citizen gets one "registered" life event whose `after` is the citizen_snapshot of the
record, so that citizen_rebuild derives the same record from the event log.
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cache, partial
from math import gcd
from random import Random
from typing import Any, Generic, Protocol, TypeVar

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg import sql

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.bulkload import (
    CopyTable,
    SecondaryIndexes,
    column_of,
    copy_batch,
    may_skip_fk_triggers,
)
from motcua.geo import selectors as geo
from motcua.registry import names
from motcua.registry.cards import card_expiry
from motcua.registry.dates import add_years
from motcua.registry.models import Citizen, Household, HouseholdMember, IdCard, LifeEvent, Residence
from motcua.registry.pin import PROVINCE_CODES, pin_prefix

DEFAULT_PROVINCE = "2025:82"  # Đồng Tháp since the 2025 merger (Đồng Tháp + Tiền Giang)
DEFAULT_BATCH_SIZE = 10_000  # small, so that generation and COPY overlap from the start
SEED_ACTOR = Actor(kind="system", ref="seed")
CARD_ISSUER = "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
DUE_SOON_DAYS = 90

T = TypeVar("T")
Row = tuple[Any, ...]


class SeedError(ValueError):
    """A bad argument to the seeding, in words the operator can act on."""


# --- the province ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ward:
    key: str
    urban: bool
    pin_code: str  # the pre-2025 province the ward belonged to, where its births were registered


@dataclass(frozen=True)
class ProvincePlan:
    """What generation needs to know about the province, resolved once through geo."""

    province_key: str
    name: str
    wards: tuple[Ward, ...]
    elsewhere: tuple[tuple[str, str], ...]  # (PIN code, pre-2025 province key) of other provinces
    southern: bool  # addresses say "Ấp"/"Hẻm" rather than "Thôn"/"Ngõ"


def province_plan(key_or_code: str) -> ProvincePlan:
    """Resolve a 2025 province key ("2025:82"), a pre-2025 one ("pre2025:87") or a PIN province
    code ("087") to the 2025 province and its wards; SeedError if there is no such province."""
    province = _current_province(key_or_code.strip())
    old_provinces = {
        code: unit for code in PROVINCE_CODES if (unit := geo.legacy_province_by_pin_code(code))
    }
    home = {
        code: _ward_code_range(unit.key)
        for code, unit in old_provinces.items()
        if [u.key for u in geo.unit_current(unit.key)] == [province.key]
    }
    wards = tuple(
        Ward(key=w.key, urban=w.kind == "phường", pin_code=_ward_pin_code(w.code, home))
        for w in geo.wards_of(province.key)
    )
    if not home or not wards:
        raise SeedError(_("%(name)s: thiếu dữ liệu đơn vị hành chính") % {"name": province.name})
    return ProvincePlan(
        province_key=province.key,
        name=province.name,
        wards=wards,
        elsewhere=tuple((code, u.key) for code, u in old_provinces.items() if code not in home),
        southern=min(home) >= "070",
    )


def _current_province(key_or_code: str) -> geo.UnitInfo:
    if key_or_code.isdigit():
        unit = geo.legacy_province_by_pin_code(key_or_code)
    else:
        unit = geo.unit_get(key_or_code)
    current = geo.unit_current(unit.key) if unit and unit.level == geo.Level.PROVINCE else []
    if len(current) != 1 or current[0].level != geo.Level.PROVINCE:
        raise SeedError(
            _("Không có tỉnh/thành phố '%(key_or_code)s' %(DEFAULT_PROVINCE)s")
            % {"key_or_code": key_or_code, "DEFAULT_PROVINCE": DEFAULT_PROVINCE}
        )
    return current[0]


def _ward_code_range(old_province_key: str) -> tuple[int, int]:
    codes = [int(w.code) for w in geo.wards_of(old_province_key)] or [0]
    return min(codes), max(codes)


def _ward_pin_code(ward_code: str, home: dict[str, tuple[int, int]]) -> str:
    """A 2025 ward kept the code of one of its old wards, and old ward codes run in one block
    per province: the block tells which old province (PIN code) registered the ward's births."""
    number = int(ward_code)
    return next((code for code, (low, high) in home.items() if low <= number <= high), min(home))


# --- what generation asks of the registry ----------------------------------------------------


class RegistryState(Protocol):
    """The registry as generation sees it: which numbers are taken, which household ids to use."""

    def pins_taken(self, pins: list[str]) -> set[str]: ...

    def cmnds_taken(self, cmnds: list[str]) -> set[str]: ...

    def household_ids(self, count: int) -> Sequence[int]: ...


class EmptyRegistry:
    """A registry with nothing in it, for generation without writing anything."""

    def __init__(self) -> None:
        self._next_id = 1

    def pins_taken(self, pins: list[str]) -> set[str]:
        return set()

    def cmnds_taken(self, cmnds: list[str]) -> set[str]:
        return set()

    def household_ids(self, count: int) -> Sequence[int]:
        ids = range(self._next_id, self._next_id + count)
        self._next_id += count
        return ids


# --- random helpers --------------------------------------------------------------------------


class Picker(Generic[T]):
    """Weighted choice from precomputed cumulative weights: one random() and a bisect per pick."""

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.items = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self, rng: Random) -> T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


def _ranked(items: Iterable[str], flatness: float = 8.0) -> dict[str, float]:
    """Zipf-like weights for a list ordered by popularity (first = most common)."""
    return {item: 1 / (rank + flatness) for rank, item in enumerate(items)}


def _normalized(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {key: w / total for key, w in weights.items()}


def _banded(bands: dict[tuple[int, int], float]) -> dict[int, float]:
    """Per-year weights from {(first, last): weight of each year in the band}."""
    return {year: w for (first, last), w in bands.items() for year in range(first, last + 1)}


class SerialSequence:
    """Distinct numbers below `modulus` in a scrambled order, without remembering them:
    position k gives (start + k·step) mod modulus, and step is coprime to the modulus."""

    def __init__(self, rng: Random, modulus: int) -> None:
        self.modulus = modulus
        self.start = rng.randrange(modulus)
        first_step = rng.randrange(modulus // 3, modulus)
        self.step = next(s for s in itertools.count(first_step) if gcd(s, modulus) == 1)
        self.position = 0

    def __call__(self) -> int:
        if self.position >= self.modulus:
            raise SeedError(_("hết số sê-ri"))
        value = (self.start + self.position * self.step) % self.modulus
        self.position += 1
        return value


# --- population structure (Vietnam, around 2024) ---------------------------------------------

YEAR = 365.2425
# n years span at most n·365 + ⌈n/4⌉ days, so this many days always make n full years.
DAYS_18_YEARS = 18 * 365 + 5 + 1
DAYS_20_YEARS = 20 * 365 + 5 + 1
MARRIAGE_MIN_DAYS = {"M": DAYS_20_YEARS, "F": DAYS_18_YEARS}  # Luật HN&GĐ 2014, Điều 8

HOUSEHOLD_KINDS = Picker({"couple": 56, "three_generations": 22, "single": 13, "single_parent": 9})
# The age of the wife of a couple, of someone living alone, of the middle generation of a
# three-generation household; children's ages follow from their mothers'. Together they give
# the pyramid its 25–45 bulge and about 15 % of people aged 60 or more.
WIFE_AGES = Picker(
    _banded({(18, 22): 2, (23, 27): 5, (28, 45): 8, (46, 55): 6.5, (56, 65): 3.6, (66, 75): 1.8, (76, 85): 0.7})
)  # fmt: skip
SINGLE_AGES = Picker(
    _banded({(20, 29): 4, (30, 44): 2, (45, 59): 1.5, (60, 74): 1.4, (75, 95): 0.7})
)
MIDDLE_GENERATION_AGES = Picker(_banded({(22, 27): 3, (28, 42): 6, (43, 55): 3}))
HUSBAND_AGE_GAPS = Picker(
    {-2: 3, -1: 4, 0: 8, 1: 12, 2: 14, 3: 13, 4: 11, 5: 9, 6: 7, 7: 5, 8: 4, 10: 3, 12: 2}
)
FATHER_AGE_AT_BIRTH = Picker(_banded({(21, 24): 3, (25, 32): 6, (33, 40): 3, (41, 42): 1}))
# Children born to a woman, by her year of birth (fertility fell from about 5 to about 2).
CHILDREN_BY_COHORT: list[tuple[int, Picker[int]]] = [
    (1950, Picker({1: 4, 2: 8, 3: 14, 4: 20, 5: 20, 6: 16, 7: 10})),
    (1965, Picker({1: 5, 2: 14, 3: 24, 4: 25, 5: 16, 6: 10})),
    (1980, Picker({0: 3, 1: 10, 2: 42, 3: 28, 4: 12, 5: 5})),
    (9999, Picker({0: 6, 1: 20, 2: 50, 3: 18, 4: 6})),
]
ERA_NAME_SHARE: dict[names.Era, float] = {"old": 0.25, "mid": 0.15, "young": 0.5}
BORN_ELSEWHERE = 0.10  # adults whose birth was registered in another province
CHILD_BORN_ELSEWHERE = 0.02
HOMETOWN_ELSEWHERE = 0.2
SAME_ETHNICITY_AS_SPOUSE = 0.92
CMND_SHARE_BEFORE_1990 = 0.40  # the old 9-digit identity card, still held by many born before 1990
PARTIAL_BIRTH_DATE_BEFORE_1960 = 0.06  # only the year or month known: old paper records
FEMALE_HEAD = 0.2
SINGLE_MOTHER = 0.8
ELDERS_HEAD_THREE_GENERATIONS = 0.4
CARD_SHARE_FROM_14 = 0.93
CARD_SHARE_UNDER_14 = 0.02  # issued on request
RENEWED_WHEN_EXPIRED = 0.85
CAMPAIGN_START = date(2021, 1, 1).toordinal()  # most chip cards date from the 2021–2022 campaign
CAMPAIGN_DAYS = 730
LATER_THAN_CAMPAIGN = 0.25  # the later trickle, up to today
# Contacts on record, given at card issuance (or residence registration without a card).
PHONE_SHARE_ADULTS = 0.88
PHONE_SHARE_14_TO_17 = 0.4
EMAIL_SHARE_ADULTS = 0.3
MOBILE_PREFIXES = "35789"  # 03x, 05x, 07x, 08x, 09x
EMAIL_DOMAINS = Picker({"gmail.com": 70, "yahoo.com": 12, "outlook.com": 8, "icloud.com": 4})
NO_CONTACT = ("", "", None, "", "", None)
_JAN_1_1960 = date(1960, 1, 1).toordinal()
_JAN_1_1990 = date(1990, 1, 1).toordinal()


def _stays_home(age: int) -> float:
    """How likely an unmarried child of this age still lives in the parents' household."""
    return 1.0 if age < 18 else 0.8 if age < 23 else 0.5 if age < 28 else 0.25 if age < 33 else 0.08


def _death_chance(age: int) -> float:
    """Chance that an elderly household member died within the last years."""
    return 0.0 if age < 60 else min(0.6, 0.03 + (age - 60) * 0.012)


def _era(birth_year: int) -> names.Era:
    return "old" if birth_year < 1975 else "mid" if birth_year < 2000 else "young"


def _given_name_weights(sex: str, era: names.Era) -> dict[str, float]:
    """The common names, plus the era's typical names taking ERA_NAME_SHARE of the picks."""
    share = ERA_NAME_SHARE[era]
    common = _normalized(_ranked(names.GIVEN_NAMES_COMMON[sex]))
    weights = {name: w * (1 - share) for name, w in common.items()}
    for name, w in _normalized(_ranked(names.GIVEN_NAMES_BY_ERA[sex, era])).items():
        weights[name] = weights.get(name, 0.0) + w * share
    return weights


@cache
def _pin_prefix(pin_code: str, sex: str, birth_year: int) -> str:
    return pin_prefix(province_code=pin_code, sex=sex, birth_year=birth_year)


# --- people and households -------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Person:
    sex: str
    birth: int  # ordinal of the date of birth
    family_name: str
    ethnicity: str
    religion: str
    hometown: str
    full_name: str = ""
    precision: str = "day"
    pin_code: str = ""
    birth_place: str = ""
    father: Person | None = None
    mother: Person | None = None
    spouse: Person | None = None
    death: int | None = None
    pin: str = ""
    cmnd: str | None = None
    relation: str = ""
    joined: int = 0


@dataclass(slots=True)
class NewHousehold:
    ward: Ward
    address: str
    created: int
    members: list[Person] = field(default_factory=list)


@dataclass
class PopulationBatch:
    """Rows ready for COPY, in the column order of the *_COLUMNS constants; households are whole,
    so every reference between rows stays inside the batch."""

    citizens: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    households: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    residences: list[Row] = field(default_factory=list)
    cards: list[Row] = field(default_factory=list)
    deceased: int = 0
    cards_due_soon: int = 0


CITIZEN_COLUMNS = (
    "pin", "full_name", "sex", "birth_date", "birth_date_precision", "birth_place", "hometown",
    "ethnicity", "religion", "nationality", "father_pin", "mother_pin", "spouse_pin", "cmnd",
    "death_date", "phone", "phone_source", "phone_recorded_at", "email", "email_source",
    "email_recorded_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "citizen", "kind", "occurred_on", "recorded_at", "actor", "legal_basis", "reason", "before",
    "after",
)  # fmt: skip
HOUSEHOLD_COLUMNS = ("id", "ward", "address", "created_on")
MEMBER_COLUMNS = ("household", "citizen", "relation", "joined_on", "left_on")
RESIDENCE_COLUMNS = ("citizen", "kind", "ward", "address", "household", "valid_from", "valid_to")
CARD_COLUMNS = ("citizen", "issued_on", "expires_on", "issued_by", "status")


class _IsoDates(dict[int, str]):
    """Ordinal → ISO text, computed once per day: a few thousand days recur a million times."""

    def __missing__(self, ordinal: int) -> str:
        text = self[ordinal] = date.fromordinal(ordinal).isoformat()
        return text


def _snapshot_json(
    person: Person, birth: str, father: str, mother: str, spouse: str, death: str | None
) -> str:
    """citizen_snapshot of the record as JSON text, written out by hand (several times faster
    than json.dumps): every string is from the name tables, a geo key, digits or a date, none of
    which needs escaping (checked by _require_json_safe)."""
    birth_date = (
        birth if person.precision == "day" else birth[: 7 if person.precision == "month" else 4]
    )
    cmnd = f'"{person.cmnd}"' if person.cmnd else "null"
    death_date = f'"{death}"' if death else "null"
    return (
        f'{{"full_name": "{person.full_name}", "sex": "{person.sex}", '
        f'"birth_date": "{birth_date}", "birth_place": "{person.birth_place}", '
        f'"hometown": "{person.hometown}", "ethnicity": "{person.ethnicity}", '
        f'"religion": "{person.religion}", "nationality": "VN", "father_pin": "{father}", '
        f'"mother_pin": "{mother}", "spouse_pin": "{spouse}", "cmnd": {cmnd}, '
        f'"death_date": {death_date}}}'
    )


def _require_json_safe(texts: Iterable[str]) -> None:
    """The vocabulary may go into JSON strings verbatim: no quote, backslash or control character."""
    bad = [t for t in texts if json.dumps(t, ensure_ascii=False) != f'"{t}"']
    if bad:
        raise ValueError(f"texts that JSON would escape: {bad[:5]}")


class PopulationGenerator:
    """Builds households one after another from a single Random; see generate_population."""

    def __init__(
        self, plan: ProvincePlan, *, seed: int, today: date, registry: RegistryState
    ) -> None:
        self.plan = plan
        self.rng = Random(seed)
        self.today = today.toordinal()
        self.today_date = today
        self.registry = registry
        self.iso = _IsoDates()
        self.ward = Picker(dict.fromkeys(plan.wards, 1.0))
        self.elsewhere = Picker(dict.fromkeys(plan.elsewhere, 1.0))
        self.family_names = Picker(names.FAMILY_NAMES)
        self.family_names_by_ethnicity = {
            ethnicity: Picker(weights)
            for ethnicity, weights in names.FAMILY_NAMES_BY_ETHNICITY.items()
        }
        self.middle_names = {key: Picker(weights) for key, weights in names.MIDDLE_NAMES.items()}
        self.given_names = {
            key: Picker(_given_name_weights(*key)) for key in names.GIVEN_NAMES_BY_ERA
        }
        self.ethnicities = Picker(names.ETHNICITIES)
        self.religions = Picker(names.RELIGIONS)
        self.streets = Picker(_ranked(names.STREETS, flatness=20))
        self.pin_serials: dict[str, SerialSequence] = {}
        # Contacts draw from their own stream, so the rest of the population stays as it was.
        self.contact_rng = Random(f"contacts-{seed}")
        self.cmnd_serials = SerialSequence(self.rng, 10**9)
        _require_json_safe(
            itertools.chain(
                names.FAMILY_NAMES, *names.FAMILY_NAMES_BY_ETHNICITY.values(),
                *names.MIDDLE_NAMES.values(), *names.GIVEN_NAMES_COMMON.values(),
                *names.GIVEN_NAMES_BY_ERA.values(), names.ETHNICITIES, names.RELIGIONS,
                (w.key for w in plan.wards), (key for _, key in plan.elsewhere),
            )
        )  # fmt: skip
        recorded_at = datetime.now(UTC).isoformat()
        # kind, occurred_on, recorded_at, actor, legal_basis, reason, before
        self.event_columns = (
            "registered", self.iso[self.today], recorded_at, SEED_ACTOR.label, "",
            gettext_noop("Dân cư tổng hợp (seed %(seed)s)") % {"seed": seed}, "{}",
        )  # fmt: skip

    def batches(self, n: int, batch_size: int) -> Iterator[PopulationBatch]:
        remaining = n
        while remaining > 0:
            households = self._households(min(batch_size, remaining))
            people = [p for h in households for p in h.members]
            remaining -= len(people)
            self._assign_pins(people)
            self._assign_cmnds([p for p in people if self._had_cmnd(p)])
            yield self._rows(households)

    def _households(self, wanted: int) -> list[NewHousehold]:
        households: list[NewHousehold] = []
        count = 0
        while count < wanted:
            household = self._household()
            if len(household.members) > wanted - count:
                household = self._single()  # the last few people live alone, so n is exact
            households.append(household)
            count += len(household.members)
        return households

    def _household(self) -> NewHousehold:
        kind = HOUSEHOLD_KINDS(self.rng)
        if kind == "couple":
            return self._couple_household()
        if kind == "three_generations":
            return self._three_generations()
        if kind == "single_parent":
            return self._single_parent()
        return self._single()

    # -- household shapes --

    def _single(self) -> NewHousehold:
        person = self._adult(self._sex(), self._birth_for_age(SINGLE_AGES(self.rng)))
        since = self.today - int(self.rng.random() * 20 * YEAR)
        household = self._new_household(max(person.birth + DAYS_18_YEARS, since))
        self._join(household, person, "head", household.created)
        return household

    def _couple_household(self) -> NewHousehold:
        husband, wife, married = self._couple(WIFE_AGES(self.rng))
        household = self._new_household(married)
        self._join_couple(household, husband, wife)
        self._join_children(household, husband, wife, married, "child")
        self._maybe_die(household.members[1])  # the spouse: the head is alive
        return household

    def _single_parent(self) -> NewHousehold:
        """A widowed or divorced parent and the children; the other parent is not recorded."""
        father, mother, married = self._couple(min(WIFE_AGES(self.rng), 60))
        parent = mother if self.rng.random() < SINGLE_MOTHER else father
        household = self._new_household(married)
        self._join(household, parent, "head", married)
        self._join_children(household, father, mother, married, "child")
        for child in household.members[1:]:
            child.father, child.mother = (father, None) if parent is father else (None, mother)
        parent.spouse = None
        return household

    def _three_generations(self) -> NewHousehold:
        """Grandparents, their married son with his wife, and the grandchildren; the head is
        the grandfather (or grandmother) or the son."""
        ward = self.ward(self.rng)
        son_birth = self._birth_for_age(MIDDLE_GENERATION_AGES(self.rng))
        grandfather, grandmother, elders_married = self._parents_of(son_birth)
        son = self._child(grandfather, grandmother, "M", son_birth, ward)
        wife_birth = son_birth + int((HUSBAND_AGE_GAPS(self.rng) + self.rng.random()) * YEAR)
        wife = self._adult("F", min(wife_birth, self.today - DAYS_18_YEARS - 365), spouse=son)
        married = self._marriage_day(son, wife)
        assert married is not None  # the son is at least 22 and his wife at least 19
        son.spouse, wife.spouse = wife, son
        elders_head = self.rng.random() < ELDERS_HEAD_THREE_GENERATIONS
        household = self._new_household(elders_married if elders_head else married, ward)
        if elders_head:
            self._join_couple(household, grandfather, grandmother)
            self._join(household, son, "child", son.birth)
            self._join(household, wife, "other", married)  # daughter-in-law: no closer relation
        else:
            self._join(household, son, "head", married)
            self._join(household, wife, "spouse", married)
            self._join(household, grandfather, "parent", married)
            self._join(household, grandmother, "parent", married)
        self._join_children(household, son, wife, married, "grandchild" if elders_head else "child")
        for elder in (grandfather, grandmother):
            if elder.relation != "head":
                self._maybe_die(elder)
        return household

    # -- people --

    def _couple(self, wife_age: int) -> tuple[Person, Person, int]:
        """A married couple and their wedding day; the wife is older each try until the law
        allows the marriage (husband at least 20, wife at least 18)."""
        while True:
            wife_birth = self._birth_for_age(wife_age)
            gap = HUSBAND_AGE_GAPS(self.rng) + self.rng.random() - 0.5
            husband = self._adult("M", wife_birth - int(gap * YEAR))
            wife = self._adult("F", wife_birth, spouse=husband)
            married = self._marriage_day(husband, wife)
            if married is not None:
                husband.spouse, wife.spouse = wife, husband
                return husband, wife, married
            wife_age += 1

    def _marriage_day(self, husband: Person, wife: Person) -> int | None:
        earliest = max(husband.birth + MARRIAGE_MIN_DAYS["M"], wife.birth + MARRIAGE_MIN_DAYS["F"])
        if earliest > self.today:
            return None
        return min(self.today, earliest + int(self.rng.expovariate(1 / (4 * YEAR))))

    def _parents_of(self, child_birth: int) -> tuple[Person, Person, int]:
        """Parents who married before the child was born: father at least 21, mother 19."""
        father_age = FATHER_AGE_AT_BIRTH(self.rng) + self.rng.random()
        mother_age = max(19.0, father_age - HUSBAND_AGE_GAPS(self.rng))
        father = self._adult("M", child_birth - int(father_age * YEAR))
        mother = self._adult("F", child_birth - int(mother_age * YEAR), spouse=father)
        earliest = max(father.birth + DAYS_20_YEARS, mother.birth + DAYS_18_YEARS)
        married = earliest + int(self.rng.random() * max(0, child_birth - 280 - earliest))
        father.spouse, mother.spouse = mother, father
        return father, mother, married

    def _adult(self, sex: str, birth: int, spouse: Person | None = None) -> Person:
        """Someone whose parents are not in the registry: own family, origins and beliefs,
        mostly of the same people as the spouse."""
        same_people = spouse is not None and self.rng.random() < SAME_ETHNICITY_AS_SPOUSE
        ethnicity = spouse.ethnicity if spouse and same_people else self.ethnicities(self.rng)
        person = Person(
            sex=sex,
            birth=birth,
            family_name=self.family_names_by_ethnicity.get(ethnicity, self.family_names)(self.rng),
            ethnicity=ethnicity,
            religion=self.religions(self.rng),
            hometown=self._hometown(),
        )
        self._name(person)
        self._register_birth(person, self.ward(self.rng), BORN_ELSEWHERE)
        if birth < _JAN_1_1960 and self.rng.random() < PARTIAL_BIRTH_DATE_BEFORE_1960:
            self._make_partial(person)
        return person

    def _join_children(
        self, household: NewHousehold, father: Person, mother: Person, married: int, relation: str
    ) -> None:
        """The couple's children born after the wedding while the mother was 18–44; the grown-up
        ones have mostly left (and are not generated)."""
        born_to = next(p for year, p in CHILDREN_BY_COHORT if self._year(mother.birth) < year)
        count = born_to(self.rng)
        last_birth = min(self.today, mother.birth + int(44 * YEAR))
        birth = married + 280 + int(self.rng.random() * 2 * YEAR)
        while count > 0 and birth <= last_birth:
            if self.rng.random() < _stays_home(self._age(birth)):
                child = self._child(father, mother, self._sex(), birth, household.ward)
                self._join(household, child, relation, birth)
            count -= 1
            birth += int((1.5 + self.rng.random() * 3.5) * YEAR)

    def _child(self, father: Person, mother: Person, sex: str, birth: int, ward: Ward) -> Person:
        """A child carries the father's family name, hometown and people."""
        child = Person(
            sex=sex,
            birth=birth,
            family_name=father.family_name,
            ethnicity=father.ethnicity,
            religion=father.religion if self.rng.random() < 0.9 else mother.religion,
            hometown=father.hometown,
            father=father,
            mother=mother,
        )
        self._name(child)
        self._register_birth(child, ward, CHILD_BORN_ELSEWHERE)
        return child

    def _register_birth(self, person: Person, ward: Ward, elsewhere_chance: float) -> None:
        """Where the birth was registered: the PIN's province code and the birth place."""
        if self.rng.random() < elsewhere_chance:
            person.pin_code, person.birth_place = self.elsewhere(self.rng)
        else:
            person.pin_code, person.birth_place = ward.pin_code, ward.key

    def _name(self, person: Person) -> None:
        key = (person.sex, _era(self._year(person.birth)))
        middle = self.middle_names[key](self.rng)
        given = self.given_names[key](self.rng)
        if middle.endswith(given):  # "Thị Ngọc Ngọc": draw again
            given = self.given_names[key](self.rng)
        person.full_name = f"{person.family_name} {middle} {given}"

    def _hometown(self) -> str:
        if self.rng.random() < HOMETOWN_ELSEWHERE:
            return self.elsewhere(self.rng)[1]
        return self.ward(self.rng).key

    def _make_partial(self, person: Person) -> None:
        """Only the year (or month) is known: the date is the first day of that period."""
        born = date.fromordinal(person.birth)
        if self.rng.random() < 0.6:
            person.precision, born = "year", born.replace(month=1, day=1)
        else:
            person.precision, born = "month", born.replace(day=1)
        person.birth = born.toordinal()

    def _maybe_die(self, person: Person) -> None:
        """Elderly members may have died in the last 12 years, after joining the household."""
        earliest = max(person.joined + 1, self.today - int(12 * YEAR))
        if earliest <= self.today and self.rng.random() < _death_chance(self._age(person.birth)):
            person.death = earliest + int(self.rng.random() * (self.today - earliest))

    def _sex(self) -> str:
        return "M" if self.rng.random() < 0.5 else "F"

    def _birth_for_age(self, age: int) -> int:
        return self.today - int((age + self.rng.random()) * YEAR)

    def _age(self, birth: int) -> int:
        return int((self.today - birth) / YEAR)

    @staticmethod
    def _year(ordinal: int) -> int:
        return date.fromordinal(ordinal).year

    # -- households --

    def _new_household(self, created: int, ward: Ward | None = None) -> NewHousehold:
        ward = ward or self.ward(self.rng)
        return NewHousehold(ward=ward, address=self._address(ward), created=created)

    def _join(self, household: NewHousehold, person: Person, relation: str, since: int) -> None:
        person.relation, person.joined = relation, max(since, person.birth, household.created)
        household.members.append(person)

    def _join_couple(self, household: NewHousehold, husband: Person, wife: Person) -> None:
        head, spouse = (wife, husband) if self.rng.random() < FEMALE_HEAD else (husband, wife)
        self._join(household, head, "head", household.created)
        self._join(household, spouse, "spouse", household.created)

    def _address(self, ward: Ward) -> str:
        rng, southern = self.rng, self.plan.southern
        if not ward.urban:
            hamlet = f"{'Ấp' if southern else 'Thôn'} {rng.randint(1, 12)}"
            return f"Số {rng.randint(1, 300)}, {hamlet}" if rng.random() < 0.4 else hamlet
        street = f"Đường {self.streets(rng)}"
        if rng.random() < 0.4:
            lane = f"{'Hẻm' if southern else 'Ngõ'} {rng.randint(1, 400)}"
            return f"Số {rng.randint(1, 120)}, {lane}, {street}"
        return f"Số {rng.randint(1, 500)}, {street}"

    # -- numbers --

    def _assign_pins(self, people: list[Person]) -> None:
        """Serials walk a scrambled sequence per prefix, so they are unique within the run; any
        already in the registry are replaced by the next ones until none is taken."""
        pending = people
        while pending:
            for person in pending:
                prefix = _pin_prefix(person.pin_code, person.sex, self._year(person.birth))
                serials = self.pin_serials.get(prefix)
                if serials is None:
                    serials = self.pin_serials[prefix] = SerialSequence(self.rng, 10**6)
                person.pin = f"{prefix}{serials():06d}"
            taken = self.registry.pins_taken([p.pin for p in pending])
            pending = [p for p in pending if p.pin in taken]

    def _had_cmnd(self, person: Person) -> bool:
        return person.birth < _JAN_1_1990 and self.rng.random() < CMND_SHARE_BEFORE_1990

    def _assign_cmnds(self, people: list[Person]) -> None:
        pending = people
        while pending:
            for person in pending:
                person.cmnd = f"{self.cmnd_serials():09d}"
            taken = self.registry.cmnds_taken([p.cmnd for p in pending if p.cmnd])
            pending = [p for p in pending if p.cmnd in taken]

    # -- rows --

    def _rows(self, households: list[NewHousehold]) -> PopulationBatch:
        batch = PopulationBatch()
        ids = self.registry.household_ids(len(households))
        for household_id, household in zip(ids, households, strict=True):
            created = self.iso[household.created]
            batch.households.append((household_id, household.ward.key, household.address, created))
            for person in household.members:
                self._person_rows(batch, person, household_id, household)
        return batch

    def _person_rows(
        self, batch: PopulationBatch, person: Person, household_id: int, household: NewHousehold
    ) -> None:
        """The citizen, its life event, household membership and permanent residence (closed
        on the day of death), and ID cards for the living."""
        iso = self.iso
        pin, birth = person.pin, iso[person.birth]
        father = person.father.pin if person.father else ""
        mother = person.mother.pin if person.mother else ""
        spouse = person.spouse.pin if person.spouse else ""
        death = iso[person.death] if person.death is not None else None
        if death is None:
            card_issued = self._cards(batch, person)
            contact = self._contact(person, card_issued)
        else:
            batch.deceased += 1
            contact = NO_CONTACT
        batch.citizens.append(
            (pin, person.full_name, person.sex, birth, person.precision, person.birth_place,
             person.hometown, person.ethnicity, person.religion, "VN", father, mother, spouse,
             person.cmnd, death, *contact)
        )  # fmt: skip
        after = _snapshot_json(person, birth, father, mother, spouse, death)
        batch.events.append((pin, *self.event_columns, after))
        joined = iso[person.joined]
        batch.members.append((household_id, pin, person.relation, joined, death))
        ward, address = household.ward.key, household.address
        batch.residences.append((pin, "permanent", ward, address, household_id, joined, death))

    def _contact(self, person: Person, card_issued: int | None) -> Row:
        """Phone and e-mail on record (the CITIZEN_COLUMNS from `phone` on): most adults gave a
        phone, some an e-mail, when their card was issued (or, without a card, when they
        registered their residence); children under 14 none."""
        age = self._age(person.birth)
        if age < 14:
            return NO_CONTACT
        rng = self.contact_rng
        adult = age >= 18
        has_phone = rng.random() < (PHONE_SHARE_ADULTS if adult else PHONE_SHARE_14_TO_17)
        has_email = adult and rng.random() < EMAIL_SHARE_ADULTS
        if not (has_phone or has_email):
            return NO_CONTACT
        if card_issued is not None:
            source, recorded = "card_issuance", f"{self.iso[card_issued]} 09:00:00+07"
        else:
            source, recorded = "residence_registration", f"{self.iso[person.joined]} 09:00:00+07"
        phone: tuple[str, str, str | None] = ("", "", None)
        if has_phone:
            number = f"0{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
            phone = (number, source, recorded)
        email: tuple[str, str, str | None] = ("", "", None)
        if has_email:
            address = f"{_ascii_name(person.full_name)}{rng.randrange(100)}@{EMAIL_DOMAINS(rng)}"
            email = (address, source, recorded)
        return (*phone, *email)

    def _cards(self, batch: PopulationBatch, person: Person) -> int | None:
        """Most people from 14 hold a chip card from the 2021–2022 campaign or their 14th
        birthday; a card past its renewal age is mostly renewed, the old one marked replaced.
        Returns the day the active card was issued, if any."""
        rng, today, iso = self.rng, self.today, self.iso
        born = date.fromordinal(person.birth)
        fourteen = add_years(born, 14).toordinal()
        if fourteen <= today:
            if rng.random() >= CARD_SHARE_FROM_14:
                return None
            issued = CAMPAIGN_START + int(rng.random() * CAMPAIGN_DAYS)
            if rng.random() < LATER_THAN_CAMPAIGN:
                issued += int(rng.random() * (today - issued))
            issued = max(issued, fourteen + int(rng.random() * 200))
        elif rng.random() < CARD_SHARE_UNDER_14:
            issued = today - int(rng.random() * min(3 * 365, today - person.birth))
        else:
            return None
        if issued > today:
            return None
        expires = _card_expiry(born, issued)
        if expires is not None and expires < today and rng.random() < RENEWED_WHEN_EXPIRED:
            renewed = expires + int(rng.random() * 120)
            if renewed <= today:
                batch.cards.append((person.pin, iso[issued], iso[expires], CARD_ISSUER, "replaced"))
                issued, expires = renewed, _card_expiry(born, renewed)
        expires_on = iso[expires] if expires is not None else None
        batch.cards.append((person.pin, iso[issued], expires_on, CARD_ISSUER, "active"))
        if expires is not None and today <= expires <= today + DUE_SOON_DAYS:
            batch.cards_due_soon += 1
        return issued


def _ascii_name(full_name: str) -> str:
    """nguyenvanan for Nguyễn Văn An: the local part of a made-up e-mail address."""
    folded = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalpha()).lower()


def _card_expiry(born: date, issued: int) -> int | None:
    expires = card_expiry(birth_date=born, issued_on=date.fromordinal(issued))
    return expires.toordinal() if expires else None


def generate_population(
    n: int,
    *,
    province_key: str,
    seed: int,
    today: date | None = None,
    registry: RegistryState | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    plan: ProvincePlan | None = None,
) -> Iterator[PopulationBatch]:
    """Batches of `batch_size` citizens (n in all) with their households, members, residences,
    ID cards and life events. Deterministic for a seed, a day and the registry's contents.
    `plan` saves resolving `province_key` again when the caller already did."""
    _require_positive(n)
    generator = PopulationGenerator(
        plan or province_plan(province_key),
        seed=seed,
        today=today or date.today(),
        registry=registry or EmptyRegistry(),
    )
    return generator.batches(n, batch_size)


def _require_positive(n: int) -> None:
    if n <= 0:
        raise SeedError(_("Số công dân phải lớn hơn 0, nhận %(n)s") % {"n": n})


# --- loading ---------------------------------------------------------------------------------


@dataclass
class LoadStats:
    citizens: int = 0
    households: int = 0
    members: int = 0
    residences: int = 0
    cards: int = 0
    events: int = 0
    deceased: int = 0
    cards_due_soon: int = 0  # active cards expiring within DUE_SOON_DAYS

    def add(self, batch: PopulationBatch) -> None:
        self.citizens += len(batch.citizens)
        self.households += len(batch.households)
        self.members += len(batch.members)
        self.residences += len(batch.residences)
        self.cards += len(batch.cards)
        self.events += len(batch.events)
        self.deceased += batch.deceased
        self.cards_due_soon += batch.cards_due_soon

    def counts(self) -> dict[str, int]:
        return asdict(self)


class DatabaseRegistry:
    """The registry in the database. While the citizen table was empty at the start, nothing
    can be taken (the run's own numbers are unique by construction), so lookups are skipped."""

    def __init__(self) -> None:
        self.was_empty = not Citizen.objects.exists()

    def pins_taken(self, pins: list[str]) -> set[str]:
        return set() if self.was_empty else self._existing("pin", pins)

    def cmnds_taken(self, cmnds: list[str]) -> set[str]:
        return set() if self.was_empty else self._existing("cmnd", cmnds)

    def household_ids(self, count: int) -> Sequence[int]:
        """Ids from the table's own sequence, so that later ORM inserts never collide."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Household._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _existing(field_name: str, values: list[str]) -> set[str]:
        query = sql.SQL("SELECT {column} FROM {table} WHERE {column} = ANY(%s)").format(
            column=sql.Identifier(column_of(Citizen, field_name)),
            table=sql.Identifier(Citizen._meta.db_table),
        )
        with connection.cursor() as cursor:
            cursor.execute(query.as_string(), [values])
            return {row[0] for row in cursor.fetchall()}


def population_load(
    n: int,
    *,
    province_key: str,
    seed: int,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadStats:
    """Generate and COPY n citizens into the registry, one transaction per batch; the audit row
    commits with the last batch. `progress` is told how many citizens are loaded so far.

    Into an empty registry, the non-unique indexes of the tables are dropped with the first
    batch and rebuilt with the last (or, on failure, before the error propagates)."""
    _require_positive(n)
    plan = province_plan(province_key)  # bad arguments fail here, before anything is written
    if connection.in_atomic_block:
        raise RuntimeError("population_load commits batch by batch: call it outside a transaction")
    registry = DatabaseRegistry()
    indexes = SecondaryIndexes(m for m, _, _ in _COPY_TABLES) if registry.was_empty else None
    skip_fk_triggers = may_skip_fk_triggers()
    generate = partial(
        generate_population, n, province_key=plan.province_key, seed=seed, today=today,
        registry=registry, batch_size=batch_size, plan=plan,
    )  # fmt: skip
    stats = LoadStats()
    if progress:
        progress(0)
    try:
        for batch in _generated_in_worker(generate):
            with transaction.atomic(durable=True):
                if indexes:
                    indexes.drop()
                copy_batch(_COPY_TABLES, batch, skip_fk_triggers=skip_fk_triggers)
                stats.add(batch)
                if stats.citizens == n:  # the last batch
                    if indexes:
                        indexes.rebuild()
                    _audit(plan, seed, stats)
            if progress:
                progress(stats.citizens)
    except BaseException:
        if indexes:
            indexes.rebuild_missing()
        raise
    return stats


def _audit(plan: ProvincePlan, seed: int, stats: LoadStats) -> None:
    audit_record(
        actor=SEED_ACTOR,
        action="registry.seed",
        object_type="province",
        object_id=plan.province_key,
        reason=gettext_noop("Dân cư tổng hợp: %(name)s, seed %(seed)s")
        % {"name": plan.name, "seed": seed},
        after=stats.counts(),
    )


def _generated_in_worker(
    generate: Callable[[], Iterator[PopulationBatch]],
) -> Iterator[PopulationBatch]:
    """The batches, generated in a forked worker process one batch ahead of the caller: Python
    builds batch k+1 on one core while the server ingests batch k on another. (A thread would
    not do: generation and the COPY client would share one core through the GIL.)

    Garbage is collected before the fork: a forked child that collected an inherited DuckDB
    connection would run its destructor against threads that exist only in the parent, and die."""
    connection.close()  # the worker opens its own connection rather than sharing this socket
    gc.collect()
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
        initargs=(generate,),
    ) as worker:
        try:
            upcoming = worker.submit(_worker_next)
            while (batch := upcoming.result()) is not None:
                upcoming = worker.submit(_worker_next)
                yield batch
        finally:
            worker.submit(_worker_stop)


_worker_batches: Iterator[PopulationBatch] = iter(())


def _worker_start(generate: Callable[[], Iterator[PopulationBatch]]) -> None:
    global _worker_batches  # a pool worker keeps its state at module level
    _worker_batches = generate()


def _worker_next() -> PopulationBatch | None:
    return next(_worker_batches, None)


def _worker_stop() -> None:
    connection.close()


_COPY_TABLES: tuple[CopyTable, ...] = (
    (Citizen, CITIZEN_COLUMNS, "citizens"),
    (Household, HOUSEHOLD_COLUMNS, "households"),
    (LifeEvent, EVENT_COLUMNS, "events"),
    (HouseholdMember, MEMBER_COLUMNS, "members"),
    (Residence, RESIDENCE_COLUMNS, "residences"),
    (IdCard, CARD_COLUMNS, "cards"),
)
