"""The synthetic population: generated people are valid and realistic, loading writes whole
households with their events, and bad arguments write nothing."""

from __future__ import annotations

import gc
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import date
from io import StringIO
from typing import Any

import duckdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from pytest_django import DjangoDbBlocker

from motcua.core.actors import SYSTEM
from motcua.core.models import AuditEntry
from motcua.registry import names, services
from motcua.registry.cards import card_expiry
from motcua.registry.dates import add_years
from motcua.registry.models import Citizen, Household, HouseholdMember, IdCard, LifeEvent, Residence
from motcua.registry.pin import pin_disagreements, pin_parse
from motcua.registry.seed import (
    CITIZEN_COLUMNS,
    DEFAULT_PROVINCE,
    PopulationBatch,
    ProvincePlan,
    SeedError,
    _generated_in_worker,
    generate_population,
    population_load,
    province_plan,
)

# Generation reads geo units; the load tests below override this with transactional ones.
pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
SAMPLE = 3000


@pytest.fixture(scope="module")
def plan(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> ProvincePlan:
    with django_db_blocker.unblock():
        return province_plan(DEFAULT_PROVINCE)


def _generate(plan: ProvincePlan, seed: int, n: int = SAMPLE) -> list[PopulationBatch]:
    return list(
        generate_population(
            n, province_key=plan.province_key, seed=seed, today=TODAY, plan=plan, batch_size=1000
        )
    )


@pytest.fixture(scope="module")
def people(plan: ProvincePlan) -> dict[str, dict[str, Any]]:
    """The generated citizens by PIN, as column → value."""
    rows = [row for batch in _generate(plan, seed=7) for row in batch.citizens]
    return {row[0]: dict(zip(CITIZEN_COLUMNS, row, strict=True)) for row in rows}


# --- generation ------------------------------------------------------------------------------


def test_same_seed_same_people_other_seed_other_people(plan: ProvincePlan) -> None:
    def who(seed: int) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for b in _generate(plan, seed, n=500) for r in b.citizens]

    assert who(11) == who(11)
    assert who(11) != who(12)


def test_exactly_n_people_in_whole_households(plan: ProvincePlan) -> None:
    batches = _generate(plan, seed=3, n=2345)
    assert [len(b.citizens) for b in batches] == [1000, 1000, 345]
    for batch in batches:
        household_ids = {h[0] for h in batch.households}
        assert {m[0] for m in batch.members} == household_ids
        heads = Counter(m[0] for m in batch.members if m[2] == "head")
        assert set(heads.values()) == {1} and set(heads) == household_ids


def test_pins_are_valid_unique_and_agree_with_sex_and_year(
    people: dict[str, dict[str, Any]],
) -> None:
    assert len(people) == SAMPLE
    for pin, person in people.items():
        pin_parse(pin)
        assert not pin_disagreements(
            pin, sex=person["sex"], birth_year=int(person["birth_date"][:4])
        )
    home = Counter(pin[:3] for pin in people)
    assert (home["082"] + home["087"]) / SAMPLE > 0.8  # mostly born in the province itself


def test_old_identity_numbers(people: dict[str, dict[str, Any]]) -> None:
    numbers = [p["cmnd"] for p in people.values() if p["cmnd"]]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 9 and n.isdigit() for n in numbers)
    before_1990 = [p for p in people.values() if p["birth_date"] < "1990"]
    share = sum(1 for p in before_1990 if p["cmnd"]) / len(before_1990)
    assert 0.3 < share < 0.5
    assert all(p["birth_date"] < "1990" for p in people.values() if p["cmnd"])


def test_names_are_realistic_nfc(people: dict[str, dict[str, Any]]) -> None:
    full_names = [p["full_name"] for p in people.values()]
    assert all(unicodedata.is_normalized("NFC", n) and len(n.split()) >= 3 for n in full_names)
    nguyen = sum(1 for n in full_names if n.split()[0] == "Nguyễn") / len(full_names)
    assert 0.32 < nguyen < 0.44
    ethnicities = Counter(p["ethnicity"] for p in people.values())
    assert ethnicities.most_common(1)[0][0] == "Kinh" and len(ethnicities) > 3


def test_name_tables_have_no_duplicates() -> None:
    for table in [*names.GIVEN_NAMES_COMMON.values(), *names.GIVEN_NAMES_BY_ERA.values()]:
        assert len(table) == len(set(table))


def test_children_are_at_least_18_years_younger_than_their_parents(
    people: dict[str, dict[str, Any]],
) -> None:
    linked = 0
    for person in people.values():
        for field, sex in (("father_pin", "M"), ("mother_pin", "F")):
            if person[field]:
                parent = people[person[field]]
                assert parent["sex"] == sex
                born = date.fromisoformat(parent["birth_date"])
                assert add_years(born, 18) <= date.fromisoformat(person["birth_date"])
                linked += 1
    assert linked > SAMPLE / 3


def test_spouses_point_at_each_other(people: dict[str, dict[str, Any]]) -> None:
    married = [p for p in people.values() if p["spouse_pin"]]
    assert len(married) > SAMPLE / 3
    for person in married:
        spouse = people[person["spouse_pin"]]
        assert spouse["spouse_pin"] == person["pin"]
        assert spouse["sex"] != person["sex"]


def test_ages_deaths_and_partial_dates(people: dict[str, dict[str, Any]]) -> None:
    living = [p for p in people.values() if p["death_date"] is None]
    ages = [TODAY.year - int(p["birth_date"][:4]) for p in living]
    assert min(ages) == 0 and max(ages) <= 100
    bulge = sum(1 for a in ages if 25 <= a < 45) / len(ages)
    assert 0.25 < bulge < 0.4
    dead = [p for p in people.values() if p["death_date"]]
    assert 0.005 < len(dead) / SAMPLE < 0.03
    assert all(p["birth_date"] < p["death_date"] <= TODAY.isoformat() for p in dead)
    assert {p["birth_date_precision"] for p in people.values()} == {"day", "month", "year"}


def test_most_adults_have_a_phone_on_record_some_an_email_children_none(
    people: dict[str, dict[str, Any]], plan: ProvincePlan
) -> None:
    living_adults = [
        p for p in people.values()
        if p["death_date"] is None and add_years(date.fromisoformat(p["birth_date"]), 18) <= TODAY
    ]  # fmt: skip
    children = [
        p for p in people.values() if add_years(date.fromisoformat(p["birth_date"]), 14) > TODAY
    ]
    phones = [p for p in living_adults if p["phone"]]
    emails = [p for p in living_adults if p["email"]]
    assert 0.8 < len(phones) / len(living_adults) < 0.95
    assert 0.2 < len(emails) / len(living_adults) < 0.4
    assert any(not p["phone"] and not p["email"] for p in living_adults)
    assert all(not p["phone"] and not p["email"] for p in children)
    assert all(not p["phone"] for p in people.values() if p["death_date"])
    for p in phones:
        assert len(p["phone"]) == 10 and p["phone"][:2] in ("03", "05", "07", "08", "09")
        assert p["phone_source"] in ("card_issuance", "residence_registration")
        assert p["phone_recorded_at"]
    assert all(p["email"].isascii() and "@" in p["email"] for p in emails)
    again = [row for batch in _generate(plan, seed=7) for row in batch.citizens]
    assert {row[0]: dict(zip(CITIZEN_COLUMNS, row, strict=True)) for row in again} == people


def test_event_after_is_the_snapshot_of_the_record(plan: ProvincePlan) -> None:
    batch = _generate(plan, seed=5, n=400)[0]
    for row, event in zip(batch.citizens, batch.events, strict=True):
        citizen = Citizen(**dict(zip(CITIZEN_COLUMNS, row, strict=True)))
        citizen.birth_date = date.fromisoformat(row[3])
        citizen.death_date = date.fromisoformat(row[14]) if row[14] else None
        assert event[0] == citizen.pin and event[1] == "registered"
        assert json.loads(event[-1]) == services.citizen_snapshot(citizen)


def test_cards_follow_the_renewal_ages_and_some_are_due_soon(plan: ProvincePlan) -> None:
    batches = _generate(plan, seed=8, n=6000)
    born = {r[0]: date.fromisoformat(r[3]) for b in batches for r in b.citizens}
    active = [c for b in batches for c in b.cards if c[4] == "active"]
    assert len({c[0] for c in active}) == len(active)  # one active card each
    for pin, issued, expires, _, _ in active:
        expected = card_expiry(birth_date=born[pin], issued_on=date.fromisoformat(issued))
        assert expires == (expected.isoformat() if expected else None)
        assert born[pin] <= date.fromisoformat(issued) <= TODAY
    assert sum(b.cards_due_soon for b in batches) > 0


def test_unknown_province_or_count_is_refused(plan: ProvincePlan) -> None:
    with pytest.raises(SeedError, match="Không có tỉnh/thành phố"):
        province_plan("999")
    with pytest.raises(SeedError, match="Không có tỉnh/thành phố"):
        province_plan(plan.wards[0].key)  # a ward is not a province
    with pytest.raises(SeedError, match="phải lớn hơn 0"):
        generate_population(0, province_key=DEFAULT_PROVINCE, seed=1, plan=plan)
    assert province_plan("087").province_key == province_plan("pre2025:87").province_key


# --- loading ---------------------------------------------------------------------------------

loads = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class _Cycle:
    """An object that refers to itself, freed only by the garbage collector."""

    def __init__(self) -> None:
        self.me = self
        self.con = duckdb.connect()
        self.con.execute("SELECT sum(i) FROM range(10000000) t(i)").fetchall()  # on its threads


def _collect_in_the_worker() -> Iterator[PopulationBatch]:
    gc.collect()
    yield from ()


@loads
def test_the_generating_worker_survives_collecting_what_duckdb_left_behind() -> None:
    """A linkage run leaves DuckDB connections in reference cycles; a forked worker that freed
    one would run its destructor against threads that only the parent has, and die."""
    gc.disable()  # the cycles stay uncollected until the worker is forked
    try:
        for _ in range(3):
            _Cycle()
        assert list(_generated_in_worker(_collect_in_the_worker)) == []
    finally:
        gc.enable()


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'registry_%'")
        return {row[0] for row in cursor.fetchall()}


@loads
def test_load_writes_whole_households_with_events_cards_and_one_audit_row() -> None:
    """One load checked from every side (each transactional test reloads all geo units)."""
    indexes = _index_names()
    seen: list[int] = []
    stats = population_load(
        2000, province_key=DEFAULT_PROVINCE, seed=3, today=TODAY, progress=seen.append
    )

    assert seen[0] == 0 and seen[-1] == 2000
    assert Citizen.objects.count() == LifeEvent.objects.count() == 2000
    assert HouseholdMember.objects.count() == Residence.objects.count() == 2000
    assert Household.objects.count() == stats.households
    assert IdCard.objects.count() == stats.cards
    assert Citizen.objects.filter(death_date__isnull=False).count() == stats.deceased
    assert _index_names() == indexes  # the dropped indexes are back
    audit = AuditEntry.objects.get(action="registry.seed")
    assert audit.after == stats.counts() and audit.actor == "system:seed"
    Household.objects.create(ward="2025:28249", address="Số 1", created_on=TODAY)  # ids free

    citizens = {c.pin: c for c in Citizen.objects.all()}
    _check_relatives(citizens)
    _check_residences(citizens)
    with_phone = [c for c in citizens.values() if c.phone]
    assert len(with_phone) > 1000 and {c.phone_source for c in with_phone} == {
        "card_issuance",
        "residence_registration",
    }
    assert all(c.phone_recorded_at for c in with_phone)
    for pin in list(citizens)[::40]:
        afters = (
            LifeEvent.objects.filter(citizen_id=pin).order_by("id").values_list("after", flat=True)
        )
        assert services.citizen_fold(list(afters)) == services.citizen_snapshot(citizens[pin])
        assert services.citizen_rebuild(actor=SYSTEM, pin=pin) == []


def _check_relatives(citizens: dict[str, Citizen]) -> None:
    for citizen in citizens.values():
        if citizen.spouse_pin:
            assert citizens[citizen.spouse_pin].spouse_pin == citizen.pin
        for parent_pin in filter(None, (citizen.father_pin, citizen.mother_pin)):
            assert add_years(citizens[parent_pin].birth_date, 12) <= citizen.birth_date


def _check_residences(citizens: dict[str, Citizen]) -> None:
    """One open permanent residence and household per living person; the dead have none."""
    open_permanent = Counter(
        Residence.objects.filter(kind="permanent", valid_to__isnull=True).values_list(
            "citizen_id", flat=True
        )
    )
    living = {pin for pin, c in citizens.items() if c.is_living}
    assert set(open_permanent) == living and set(open_permanent.values()) == {1}
    current = HouseholdMember.objects.filter(left_on__isnull=True)
    assert set(current.values_list("citizen_id", flat=True)) == living


@loads
def test_seeding_again_adds_new_people_and_the_command_prints_a_summary() -> None:
    out = StringIO()
    call_command("seed", "--citizens", "700", "--province", "087", "--seed", "5", stdout=out)
    assert Citizen.objects.count() == 700
    assert "700" in out.getvalue() and "90" in out.getvalue()

    population_load(800, province_key=DEFAULT_PROVINCE, seed=2, today=TODAY)
    population_load(800, province_key=DEFAULT_PROVINCE, seed=5)  # the same seed again
    assert Citizen.objects.count() == 2300
    assert AuditEntry.objects.filter(action="registry.seed").count() == 3
    cmnds = list(Citizen.objects.exclude(cmnd=None).values_list("cmnd", flat=True))
    assert len(cmnds) == len(set(cmnds))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--citizens", "0"], "phải lớn hơn 0"),
        (["--citizens", "-3"], "phải lớn hơn 0"),
        (["--citizens", "10", "--province", "999"], "Không có tỉnh/thành phố"),
        (["--citizens", "10", "--province", "Atlantis"], "Không có tỉnh/thành phố"),
    ],
)
def test_command_refuses_bad_arguments_and_writes_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("seed", *args, stdout=StringIO())
    assert not Citizen.objects.exists() and not AuditEntry.objects.exists()
