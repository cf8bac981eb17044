"""The registry's side of a dossier's effects: services that nest in the caller's transaction,
are idempotent by the act's reference, delete a residence or record an absence by the rules
of the Residence Law, and the selectors the dossiers and the proactive services read."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import transaction

from motcua.core.actors import Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import AccessLog, AuditEntry
from motcua.geo.selectors import unit_current, unit_get, wards_of
from motcua.registry import selectors, services
from motcua.registry.models import (
    Absence,
    Citizen,
    Household,
    HouseholdMember,
    IdCard,
    LifeEvent,
    Residence,
)
from motcua.registry.pin import PROVINCE_CODES
from motcua.registry.services import DEFAULT_PROVINCE, ResidenceMove
from motcua.registry.tests.factories import OFFICIAL, STRANGER, make_citizen, ward_keys

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
REF = "H87.12-261120-0001"


def _counts() -> tuple[int, ...]:
    return (
        Citizen.objects.count(),
        LifeEvent.objects.count(),
        AuditEntry.objects.count(),
        Residence.objects.count(),
        HouseholdMember.objects.filter(left_on__isnull=True).count(),
        Household.objects.count(),
        IdCard.objects.count(),
        Absence.objects.count(),
    )


@contextmanager
def refused(field: str, message: str = "") -> Iterator[None]:
    """The block must fail on `field` (with `message` in its text) and write nothing."""
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        yield
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field], caught.value.errors
    assert _counts() == before


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = _counts()
    yield
    assert _counts() == before


def _birth(**overrides: object) -> str:
    values: dict[str, object] = {
        "actor": OFFICIAL,
        "full_name": "Trần Thị Hoà",
        "sex": "F",
        "birth_date": date(2026, 11, 1),
        "birth_place": ward_keys()[0],
        "registered_in": "087",
        "today": TODAY,
    }
    values.update(overrides)
    return services.citizen_register_birth(**values)  # type: ignore[arg-type]


def _settle(citizen: Citizen, *, since: date = date(2010, 1, 1)) -> int:
    """A permanent residence in a new household headed by `citizen`; returns the household."""
    services.residence_move(
        actor=OFFICIAL,
        pin=citizen.pk,
        move=ResidenceMove(kind="permanent", since=since, ward=ward_keys()[0], address="Số 1"),
        today=TODAY,
    )
    return HouseholdMember.objects.get(citizen=citizen, left_on__isnull=True).household_id


def _join(citizen: Citizen, household_id: int, relation: str) -> None:
    services.residence_move(
        actor=OFFICIAL,
        pin=citizen.pk,
        move=ResidenceMove(
            kind="permanent",
            since=max(date(2012, 1, 1), citizen.birth_date),
            household_id=household_id,
            relation=relation,
        ),
        today=TODAY,
    )


def _dies(citizen: Citizen, on: date = date(2026, 2, 1)) -> None:
    """Recorded dead without the death service (a residence is registered while living)."""
    Citizen.objects.filter(pk=citizen.pk).update(death_date=on)


def _relation(citizen: Citizen) -> str:
    return HouseholdMember.objects.get(citizen=citizen, left_on__isnull=True).relation


# --- nestable, with a reference --------------------------------------------------------------


class TestNestedAndIdempotent:
    def test_a_birth_runs_inside_the_callers_transaction_and_rolls_back_with_it(self) -> None:
        before = _counts()
        with pytest.raises(RuntimeError), transaction.atomic():
            pin = _birth(reference=REF)
            assert Citizen.objects.filter(pk=pin).exists()
            raise RuntimeError("the dossier step failed after the effect")
        assert _counts() == before

    def test_a_retried_birth_registration_registers_once(self) -> None:
        mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 3, 2))
        pin = _birth(mother_pin=mother.pk, reference=REF)
        with writes_nothing():
            again = _birth(mother_pin=mother.pk, reference=REF)
        assert again == pin
        assert Citizen.objects.filter(mother_pin=mother.pk).count() == 1

    def test_a_birth_with_another_reference_is_another_child(self) -> None:
        first = _birth(reference=REF)
        second = _birth(reference=REF + "-2")
        assert first != second

    def test_births_without_a_reference_are_not_deduplicated(self) -> None:
        assert _birth() != _birth()

    def test_the_reference_is_on_the_event_and_in_the_audit_reason(self) -> None:
        pin = _birth(reference=REF)
        event = LifeEvent.objects.get(citizen_id=pin, kind="birth")
        assert event.reference == REF
        audit = AuditEntry.objects.get(object_id=pin, action="registry.birth")
        assert REF in audit.reason and "Luật Hộ tịch 2014" in audit.reason

    def test_a_reference_longer_than_64_characters_is_refused(self) -> None:
        with refused("reference"):
            _birth(reference="X" * 65)

    def test_a_retried_death_record_writes_nothing_and_does_not_fail(self) -> None:
        person = make_citizen()
        record = {"actor": OFFICIAL, "pin": person.pk, "death_date": date(2026, 1, 5)}
        services.citizen_record_death(**record, today=TODAY, reference=REF)
        with writes_nothing():
            services.citizen_record_death(**record, today=TODAY, reference=REF)
        # Without the reference the same call is the second death of a dead person.
        with refused("pin", "đã mất"):
            services.citizen_record_death(**record, today=TODAY)

    def test_a_retried_marriage_writes_nothing(self) -> None:
        man = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1990, 1, 1))
        woman = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1992, 1, 1))
        marry = {"actor": OFFICIAL, "married_on": date(2026, 1, 1), "reference": REF}
        services.marriage_register(pin_a=man.pk, pin_b=woman.pk, **marry)  # type: ignore[arg-type]
        with writes_nothing():
            services.marriage_register(pin_a=woman.pk, pin_b=man.pk, **marry)  # type: ignore[arg-type]
        assert LifeEvent.objects.filter(kind="marriage", reference=REF).count() == 2

    def test_a_retried_residence_registration_writes_nothing(self) -> None:
        person = make_citizen()
        move = ResidenceMove(
            kind="temporary", since=date(2026, 1, 1), ward=ward_keys()[0], address="Số 2"
        )
        services.residence_move(actor=OFFICIAL, pin=person.pk, move=move, reference=REF)
        with writes_nothing():
            services.residence_move(actor=OFFICIAL, pin=person.pk, move=move, reference=REF)

    def test_a_retried_card_issue_returns_the_first_cards_expiry(self) -> None:
        person = make_citizen(birth_date=date(2000, 6, 1))
        first = services.idcard_issue(
            actor=OFFICIAL, pin=person.pk, issued_on=date(2026, 1, 5), reference=REF
        )
        with writes_nothing():
            again = services.idcard_issue(
                actor=OFFICIAL, pin=person.pk, issued_on=date(2026, 2, 5), reference=REF
            )
        assert again == first == date(2040, 6, 1)
        assert IdCard.objects.filter(citizen=person).count() == 1


# --- residence deletion ----------------------------------------------------------------------


def _delete(person: Citizen, **overrides: object) -> None:
    values: dict[str, object] = {
        "actor": OFFICIAL,
        "pin": person.pk,
        "on": date(2026, 3, 1),
        "grounds": "death",
    }
    values.update(overrides)
    services.residence_delete(**values)  # type: ignore[arg-type]


class TestResidenceDelete:
    def test_a_living_persons_residence_is_never_deleted_for_a_death(self) -> None:
        person = make_citizen()
        _settle(person)
        with refused("pin", "chưa được khai tử"):
            _delete(person, grounds="death", reference=REF)
        assert Residence.objects.get(citizen=person).valid_to is None

    def test_a_dead_persons_residence_is_not_deleted_on_other_grounds(self) -> None:
        person = make_citizen()
        _settle(person)
        services.citizen_record_death(
            actor=OFFICIAL, pin=person.pk, death_date=date(2026, 2, 1), today=TODAY
        )
        with refused("pin", "đã mất"):
            _delete(person, grounds="abroad")

    def test_unknown_grounds_no_residence_a_future_or_early_date_are_refused(self) -> None:
        homeless = make_citizen(death_date=date(2026, 2, 1))
        with refused("pin", "không có nơi thường trú"):
            _delete(homeless)
        dead = make_citizen()
        _settle(dead, since=date(2010, 1, 1))
        _dies(dead)
        with refused("grounds"):
            _delete(dead, grounds="bored")
        with refused("on", "tương lai"):
            _delete(dead, on=date(2099, 1, 1))
        with refused("on", "01/01/2010"):
            _delete(dead, on=date(2009, 12, 31))
        with refused("kind"):
            _delete(dead, kind="holiday")

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        dead = make_citizen()
        _settle(dead)
        _dies(dead)
        before = _counts()
        with pytest.raises(PermissionDenied):
            _delete(dead, actor=STRANGER)
        assert _counts() == before

    def test_a_deceased_member_leaves_the_residence_and_the_household(self) -> None:
        head = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1960, 1, 1))
        household = _settle(head)
        grandma = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1930, 1, 1))
        _join(grandma, household, "parent")
        services.citizen_record_death(
            actor=OFFICIAL, pin=grandma.pk, death_date=date(2026, 2, 1), today=TODAY
        )
        _delete(grandma, reason="giấy báo tử", reference=REF)
        residence = Residence.objects.get(citizen=grandma, kind="permanent")
        assert residence.valid_to == date(2026, 3, 1)
        membership = HouseholdMember.objects.get(citizen=grandma)
        assert membership.left_on == date(2026, 3, 1)
        event = LifeEvent.objects.get(citizen=grandma, kind="deregistered")
        assert event.reference == REF
        assert event.before["permanent_residence"]["household_id"] == household
        assert event.after == {"permanent_residence": None, "grounds": "death", "household": None}
        assert _relation(head) == "head"  # the head stays
        assert AuditEntry.objects.filter(object_id=grandma.pk, action="registry.deregistered")
        with writes_nothing():
            _delete(grandma, reason="giấy báo tử", reference=REF)

    def test_a_temporary_residence_ends_without_touching_the_household(self) -> None:
        person = make_citizen()
        household = _settle(person)
        services.residence_move(
            actor=OFFICIAL,
            pin=person.pk,
            move=ResidenceMove(
                kind="temporary", since=date(2020, 1, 1), ward=ward_keys()[1], address="Số 3"
            ),
            today=TODAY,
        )
        _delete(person, grounds="other", kind="temporary")
        assert Residence.objects.get(citizen=person, kind="temporary").valid_to is not None
        assert Residence.objects.get(citizen=person, kind="permanent").valid_to is None
        assert HouseholdMember.objects.get(citizen=person, left_on__isnull=True).household_id == (
            household
        )

    def test_a_dead_heads_household_gets_the_oldest_adult_as_head(self) -> None:
        head = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1955, 1, 1))
        wife = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1958, 1, 1))
        son = make_citizen(
            full_name="Nguyễn Văn Bình",
            birth_date=date(1985, 1, 1),
            mother_pin=wife.pk,
            father_pin=head.pk,
        )
        grandson = make_citizen(
            full_name="Nguyễn Văn Cường", birth_date=date(2015, 1, 1), father_pin=son.pk
        )
        household = _settle(head)
        _join(wife, household, "spouse")
        _join(son, household, "child")
        _join(grandson, household, "grandchild")
        services.citizen_record_death(
            actor=OFFICIAL, pin=head.pk, death_date=date(2026, 2, 1), today=TODAY
        )
        _delete(head, reference=REF)
        assert _relation(wife) == "head"
        assert (_relation(son), _relation(grandson)) == ("child", "grandchild")
        change = LifeEvent.objects.get(citizen=wife, kind="household")
        assert change.before["relation"] == "spouse" and change.after["relation"] == "head"
        assert change.reference == REF
        assert AuditEntry.objects.filter(object_id=wife.pk, action="registry.household").exists()
        # Relations already right are not rewritten.
        assert not LifeEvent.objects.filter(citizen=son, kind="household").exists()

    def test_relations_are_read_again_from_kinship_when_a_child_becomes_head(self) -> None:
        head = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1940, 1, 1))
        son = make_citizen(full_name="Nguyễn Văn Bình", birth_date=date(1970, 1, 1))
        daughter = make_citizen(full_name="Nguyễn Thị Cúc", sex="F", birth_date=date(1975, 1, 1))
        lodger = make_citizen(full_name="Phạm Văn Dũng", birth_date=date(1990, 1, 1))
        for child in (son, daughter):
            Citizen.objects.filter(pk=child.pk).update(father_pin=head.pk)
        household = _settle(head)
        _join(son, household, "child")
        _join(daughter, household, "child")
        _join(lodger, household, "other")
        services.citizen_record_death(
            actor=OFFICIAL, pin=head.pk, death_date=date(2026, 2, 1), today=TODAY
        )
        _delete(head)
        assert _relation(son) == "head"
        assert _relation(daughter) == "sibling"
        assert _relation(lodger) == "other"

    def test_a_household_of_minors_gets_the_oldest_living_member(self) -> None:
        head = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1980, 1, 1))
        elder = make_citizen(full_name="Nguyễn Văn Bình", birth_date=date(2010, 1, 1))
        younger = make_citizen(full_name="Nguyễn Thị Cúc", sex="F", birth_date=date(2014, 1, 1))
        ghost = make_citizen(full_name="Nguyễn Văn Đức", birth_date=date(1950, 1, 1))
        household = _settle(head)
        for member in (elder, younger, ghost):
            _join(member, household, "other")
        _dies(ghost, date(2025, 1, 1))
        services.citizen_record_death(
            actor=OFFICIAL, pin=head.pk, death_date=date(2026, 2, 1), today=TODAY
        )
        _delete(head)
        assert _relation(elder) == "head"
        assert _relation(ghost) == "other"  # a dead member is never made head

    def test_a_head_living_alone_leaves_an_empty_household(self) -> None:
        head = make_citizen()
        household = _settle(head)
        _dies(head)
        _delete(head)
        assert not HouseholdMember.objects.filter(
            household_id=household, left_on__isnull=True
        ).exists()


# --- absences --------------------------------------------------------------------------------


def _absence(person: Citizen, **overrides: object) -> None:
    values: dict[str, object] = {
        "actor": OFFICIAL,
        "pin": person.pk,
        "since": date(2026, 12, 10),
        "until": date(2027, 3, 10),
        "destination": "Xã Tân Phú, Tỉnh Đồng Nai",
        "reason": "đi làm ăn xa",
    }
    values.update(overrides)
    services.absence_declare(**values)  # type: ignore[arg-type]


class TestAbsence:
    def test_an_absence_is_recorded_in_nfc_with_its_event(self) -> None:
        person = make_citizen()
        decomposed = unicodedata.normalize("NFD", "  Xã Tân  Phú, Tỉnh Đồng Nai ")
        _absence(person, destination=decomposed, reference=REF)
        absence = Absence.objects.get(citizen=person)
        assert absence.destination == "Xã Tân Phú, Tỉnh Đồng Nai"
        assert (absence.since, absence.until) == (date(2026, 12, 10), date(2027, 3, 10))
        event = LifeEvent.objects.get(citizen=person, kind="absence")
        assert event.reference == REF and event.after["absence"]["until"] == "2027-03-10"
        with writes_nothing():
            _absence(person, reference=REF)

    def test_a_dead_person_cannot_declare_an_absence(self) -> None:
        person = make_citizen(death_date=date(2025, 1, 1))
        with refused("pin", "đã mất"):
            _absence(person)

    def test_the_end_must_come_after_the_start(self) -> None:
        person = make_citizen()
        with refused("until"):
            _absence(person, until=date(2026, 12, 10))
        with refused("until"):
            _absence(person, until=date(2026, 12, 1))

    def test_a_destination_is_required(self) -> None:
        person = make_citizen()
        with refused("destination", "Bắt buộc"):
            _absence(person, destination="   ")
        with refused("destination"):
            _absence(person, destination="x" * 201)

    def test_overlapping_absences_are_refused_back_to_back_ones_accepted(self) -> None:
        person = make_citizen()
        _absence(person)
        with refused("since", "10/12/2026"):
            _absence(person, since=date(2027, 1, 1), until=date(2027, 6, 1))
        with refused("since"):
            _absence(person, since=date(2026, 11, 1), until=date(2026, 12, 11))
        _absence(person, since=date(2027, 3, 10), until=date(2027, 5, 1))
        assert Absence.objects.filter(citizen=person).count() == 2


# --- selectors -------------------------------------------------------------------------------


class TestLifeEventSelectors:
    def test_events_since_a_cursor_in_order_by_kind_and_limit(self) -> None:
        cursor = LifeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        pin = _birth(reference=REF)
        dead = make_citizen()
        services.citizen_record_death(
            actor=OFFICIAL, pin=dead.pk, death_date=date(2026, 1, 5), today=TODAY
        )
        events = selectors.life_events_since(after_id=cursor)
        kinds = [(e.pin, e.kind) for e in events]
        assert kinds == [(pin, "birth"), (dead.pk, "registered"), (dead.pk, "death")]
        assert [e.id for e in events] == sorted(e.id for e in events)
        births = selectors.life_events_since(after_id=cursor, kinds=["birth", "death"])
        assert [e.kind for e in births] == ["birth", "death"]
        assert births[0].reference == REF and births[0].occurred_on == date(2026, 11, 1)
        assert selectors.life_events_since(after_id=cursor, limit=1) == events[:1]
        assert selectors.life_events_since(after_id=events[-1].id) == []

    def test_events_by_reference_and_never_for_an_empty_one(self) -> None:
        pin = _birth(reference=REF)
        _birth()
        found = selectors.life_events_by_reference(reference=REF)
        assert [(e.pin, e.kind, e.kind_label) for e in found] == [(pin, "birth", "khai sinh")]
        assert selectors.life_events_by_reference(reference="") == []
        assert selectors.life_events_by_reference(reference="H-none") == []


class TestPinProvinceCode:
    def test_the_demo_province_gives_the_code_it_kept(self) -> None:
        assert DEFAULT_PROVINCE == "2025:82"
        assert selectors.pin_province_code(DEFAULT_PROVINCE) == "082"

    def test_an_old_province_or_its_code_gives_its_own_code(self) -> None:
        assert selectors.pin_province_code("pre2025:87") == "087"
        assert selectors.pin_province_code("087") == "087"

    def test_every_old_province_gives_its_own_code(self) -> None:
        for code in PROVINCE_CODES:
            assert selectors.pin_province_code(f"pre2025:{code[1:]}") == code

    def test_every_2025_province_gives_one_of_the_provinces_merged_into_it(self) -> None:
        for code in PROVINCE_CODES:
            new = unit_current(f"pre2025:{code[1:]}")[0].key
            found = selectors.pin_province_code(new)
            assert [u.key for u in unit_current(f"pre2025:{found[1:]}")] == [new]

    def test_wards_of_the_demo_province_keep_the_old_province_they_came_from(self) -> None:
        codes = {}
        for ward in wards_of(DEFAULT_PROVINCE):
            code = selectors.pin_province_code(ward.key)
            codes[code] = ward.key
            old = unit_get(f"pre2025:{ward.code}")
            if old is not None and ward.key in {u.key for u in unit_current(old.key)}:
                assert code == "0" + old.province_key.split(":")[1]
            # An old ward of the same province gives the same code as its new ward.
            if old is not None:
                assert selectors.pin_province_code(old.key) in {"082", "087"}
        assert set(codes) == {"082", "087"}  # Tiền Giang's wards and Đồng Tháp's

    def test_an_unknown_unit_is_refused(self) -> None:
        for key in ("2025:99999", "", "nowhere", "003"):
            with pytest.raises(ValidationFailed) as caught:
                selectors.pin_province_code(key)
            assert "registered_in" in caught.value.errors


class TestPersonReference:
    def test_a_dead_persons_pin_is_a_problem_unless_the_dead_are_expected(self) -> None:
        dead = make_citizen(full_name="Lê Thị Mai", sex="F", death_date=date(2025, 1, 1))
        check = {"actor": OFFICIAL, "pin": dead.pk, "sex": "F", "purpose": "kiểm tra tờ khai"}
        problem = selectors.person_reference_problem(**check, full_name="Lê Thị Mai")
        assert problem == f"Người có số định danh {dead.pk} đã được khai tử"
        assert (
            selectors.person_reference_problem(**check, full_name="Lê Thị Mai", living=False)
            is None
        )

    def test_a_wrong_name_is_told_before_whether_the_person_died(self) -> None:
        dead = make_citizen(full_name="Lê Thị Mai", sex="F", death_date=date(2025, 1, 1))
        problem = selectors.person_reference_problem(
            actor=OFFICIAL, pin=dead.pk, full_name="Trần Thị Lan", purpose="kiểm tra tờ khai"
        )
        assert problem is not None and "Họ tên không khớp" in problem

    def test_a_living_person_is_no_problem(self) -> None:
        living = make_citizen()
        assert (
            selectors.person_reference_problem(actor=OFFICIAL, pin=living.pk, purpose="kiểm tra")
            is None
        )


@pytest.fixture
def family() -> dict[str, Citizen]:
    grandpa = make_citizen(full_name="Nguyễn Văn An", birth_date=date(1940, 1, 1))
    father = make_citizen(full_name="Nguyễn Văn Bình", birth_date=date(1965, 1, 1))
    mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1968, 1, 1))
    Citizen.objects.filter(pk=father.pk).update(father_pin=grandpa.pk, spouse_pin=mother.pk)
    Citizen.objects.filter(pk=mother.pk).update(spouse_pin=father.pk)
    kids = {
        name: make_citizen(
            full_name=name,
            sex=sex,
            birth_date=born,
            father_pin=father.pk,
            mother_pin=mother.pk if name != "Nguyễn Văn Em" else "",
        )
        for name, sex, born in (
            ("Nguyễn Thị Cúc", "F", date(1990, 1, 1)),
            ("Nguyễn Văn Dũng", "M", date(1995, 6, 1)),
            ("Nguyễn Văn Em", "M", date(2000, 1, 1)),
        )
    }
    stranger = make_citizen(full_name="Phạm Văn Giang", birth_date=date(1970, 1, 1))
    people = {"grandpa": grandpa, "father": father, "mother": mother, "stranger": stranger}
    people |= {"cuc": kids["Nguyễn Thị Cúc"], "dung": kids["Nguyễn Văn Dũng"]}
    people["em"] = kids["Nguyễn Văn Em"]
    return {key: Citizen.objects.get(pk=p.pk) for key, p in people.items()}


class TestRelationBetween:
    def test_each_relation_the_registry_knows(self, family: dict[str, Citizen]) -> None:
        cases = [
            ("father", "father", "self"),
            ("father", "mother", "spouse"),
            ("mother", "father", "spouse"),
            ("father", "cuc", "child"),
            ("cuc", "mother", "parent"),
            ("cuc", "dung", "sibling"),
            ("cuc", "em", "sibling"),  # half-brother: the father in common
            ("grandpa", "cuc", "grandchild"),
            ("dung", "grandpa", "grandparent"),
            ("cuc", "stranger", None),
            ("mother", "grandpa", None),  # in-laws: the registry does not link them
        ]
        for pin, other, expected in cases:
            found = selectors.relation_between(
                actor=OFFICIAL,
                pin=family[pin].pk,
                other_pin=family[other].pk,
                purpose="kiểm tra quan hệ",
            )
            assert found == expected, (pin, other, found)

    def test_both_people_are_in_the_access_log(self, family: dict[str, Citizen]) -> None:
        selectors.relation_between(
            actor=OFFICIAL, pin=family["cuc"].pk, other_pin=family["dung"].pk, purpose="tờ khai"
        )
        logged = set(
            AccessLog.objects.filter(data="registry.relation").values_list("subject_pin", flat=True)
        )
        assert logged == {family["cuc"].pk, family["dung"].pk}

    def test_a_citizen_asks_only_about_themselves(self, family: dict[str, Citizen]) -> None:
        cuc = Actor(kind="citizen", ref=family["cuc"].pk, pin=family["cuc"].pk)
        assert (
            selectors.relation_between(
                actor=cuc, pin=family["cuc"].pk, other_pin=family["mother"].pk, purpose="tờ khai"
            )
            == "parent"
        )
        with pytest.raises(PermissionDenied):
            selectors.relation_between(
                actor=cuc, pin=family["dung"].pk, other_pin=family["em"].pk, purpose="tờ khai"
            )
        with pytest.raises(PermissionDenied):
            selectors.relation_between(
                actor=STRANGER, pin=family["dung"].pk, other_pin=family["em"].pk, purpose="x y z"
            )

    def test_an_unknown_or_malformed_pin(self, family: dict[str, Citizen]) -> None:
        assert (
            selectors.relation_between(
                actor=OFFICIAL, pin=family["cuc"].pk, other_pin="087084999999", purpose="tờ khai"
            )
            is None
        )
        with pytest.raises(ValidationFailed) as caught:
            selectors.relation_between(
                actor=OFFICIAL, pin=family["cuc"].pk, other_pin="12", purpose="tờ khai"
            )
        assert "other_pin" in caught.value.errors


class TestChildrenOf:
    def test_living_children_oldest_first(self, family: dict[str, Citizen]) -> None:
        Citizen.objects.filter(pk=family["dung"].pk).update(death_date=date(2020, 1, 1))
        children = selectors.children_of(actor=OFFICIAL, pin=family["father"].pk, purpose="tra cứu")
        assert [c.full_name for c in children] == ["Nguyễn Thị Cúc", "Nguyễn Văn Em"]
        assert (children[0].birth_date_label, children[0].sex_label) == ("01/01/1990", "Nữ")
        assert [
            c.pin
            for c in selectors.children_of(
                actor=OFFICIAL, pin=family["mother"].pk, purpose="tra cứu"
            )
        ] == [family["cuc"].pk]
        logged = set(
            AccessLog.objects.filter(data="registry.children").values_list("subject_pin", flat=True)
        )
        assert logged == {family["cuc"].pk, family["em"].pk}

    def test_a_parent_reads_their_own_children_without_a_log_row(
        self, family: dict[str, Citizen]
    ) -> None:
        parent = Actor(kind="citizen", ref=family["mother"].pk, pin=family["mother"].pk)
        assert (
            len(selectors.children_of(actor=parent, pin=family["mother"].pk, purpose="e-ID")) == 2
        )
        assert not AccessLog.objects.filter(data="registry.children").exists()

    def test_someone_elses_children_need_the_permission(self, family: dict[str, Citizen]) -> None:
        nosy = Actor(kind="citizen", ref=family["stranger"].pk, pin=family["stranger"].pk)
        with pytest.raises(PermissionDenied):
            selectors.children_of(actor=nosy, pin=family["mother"].pk, purpose="tò mò quá")
