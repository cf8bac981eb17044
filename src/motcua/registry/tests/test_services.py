"""Every write rule: the good case lands with its event and audit row; each bad input is refused
with a field-level message and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from motcua.core.errors import NotFound, PermissionDenied, ValidationFailed
from motcua.core.models import AuditEntry
from motcua.registry import services
from motcua.registry.models import Citizen, HouseholdMember, IdCard, LifeEvent, Residence
from motcua.registry.pin import pin_parse
from motcua.registry.services import ResidenceMove
from motcua.registry.tests.factories import OFFICIAL, STRANGER, make_citizen, ward_keys

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def _counts() -> tuple[int, ...]:
    return (
        Citizen.objects.count(),
        LifeEvent.objects.count(),
        AuditEntry.objects.count(),
        Residence.objects.count(),
        HouseholdMember.objects.count(),
        IdCard.objects.count(),
    )


@contextmanager
def refused(field: str, message: str = "") -> Iterator[None]:
    """The block must fail on `field` (with `message` in its text) and write nothing."""
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        yield
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert _counts() == before


def _birth(**overrides: object) -> str:
    values: dict[str, Any] = {
        "actor": OFFICIAL,
        "full_name": "  Trần   Thị Hoà ",
        "sex": "F",
        "birth_date": date(2026, 11, 1),
        "birth_place": ward_keys()[0],
        "registered_in": "087",
        "today": TODAY,
    }
    values.update(overrides)
    return services.citizen_register_birth(**values)


class TestBirth:
    def test_a_birth_gets_a_pin_that_agrees_with_the_record(self) -> None:
        mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 3, 2))
        pin = _birth(mother_pin=mother.pk)
        info = pin_parse(pin)
        assert (info.province_code, info.sex, info.birth_year) == ("087", "F", 2026)
        child = Citizen.objects.get(pk=pin)
        assert child.full_name == "Trần Thị Hoà" and child.mother_pin == mother.pk
        assert LifeEvent.objects.get(citizen=child).kind == "birth"
        assert AuditEntry.objects.filter(object_id=pin, action="registry.birth").exists()

    def test_a_birth_in_the_future_is_refused(self) -> None:
        with refused("birth_date", "tương lai"):
            _birth(birth_date=date(2027, 1, 1))

    def test_a_parent_less_than_12_years_older_is_refused(self) -> None:
        young = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(2015, 1, 1))
        with refused("mother_pin", "ít nhất 12 tuổi"):
            _birth(mother_pin=young.pk)

    def test_a_father_must_be_male(self) -> None:
        woman = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1990, 1, 1))
        with refused("father_pin", "không thể là cha"):
            _birth(father_pin=woman.pk)

    def test_an_unknown_parent_or_place_is_refused(self) -> None:
        with refused("father_pin", "Không có công dân"):
            _birth(father_pin="087084999999")
        with refused("birth_place", "Không có đơn vị hành chính"):
            _birth(birth_place="2025:99999")

    def test_a_name_with_digits_and_an_unknown_province_are_refused(self) -> None:
        with refused("full_name"):
            _birth(full_name="Trần Thị 2")
        with refused("registered_in"):
            _birth(registered_in="003")

    def test_an_actor_without_the_permission_writes_nothing(self) -> None:
        before = _counts()
        with pytest.raises(PermissionDenied):
            _birth(actor=STRANGER)
        assert _counts() == before


class TestDeath:
    def test_a_death_is_recorded_with_event_and_audit(self) -> None:
        person = make_citizen()
        services.citizen_record_death(
            actor=OFFICIAL, pin=person.pk, death_date=date(2026, 1, 5), today=TODAY
        )
        person.refresh_from_db()
        assert person.death_date == date(2026, 1, 5) and not person.is_living
        assert person.events.filter(kind="death").exists()

    def test_death_before_birth_is_refused(self) -> None:
        person = make_citizen()
        with refused("death_date", "Ngày mất trước ngày sinh"):
            services.citizen_record_death(
                actor=OFFICIAL, pin=person.pk, death_date=date(1980, 1, 1), today=TODAY
            )

    def test_death_in_the_future_is_refused(self) -> None:
        person = make_citizen()
        with refused("death_date", "tương lai"):
            services.citizen_record_death(
                actor=OFFICIAL, pin=person.pk, death_date=date(2027, 1, 1), today=TODAY
            )

    def test_a_deceased_person_cannot_die_again_or_move_or_get_a_card(self) -> None:
        person = make_citizen(death_date=date(2020, 1, 1))
        with refused("pin", "đã mất"):
            services.citizen_record_death(
                actor=OFFICIAL, pin=person.pk, death_date=date(2021, 1, 1), today=TODAY
            )
        with refused("pin", "đã mất"):
            services.residence_move(
                actor=OFFICIAL,
                pin=person.pk,
                move=ResidenceMove(
                    kind="temporary", since=date(2021, 1, 1), ward=ward_keys()[0], address="Số 1"
                ),
                today=TODAY,
            )
        with refused("pin", "đã mất"):
            services.idcard_issue(actor=OFFICIAL, pin=person.pk, issued_on=date(2021, 1, 1))

    def test_an_unknown_pin_is_not_found(self) -> None:
        with pytest.raises(NotFound):
            services.citizen_record_death(
                actor=OFFICIAL, pin="087084999998", death_date=date(2020, 1, 1)
            )


class TestCorrection:
    def test_a_deceased_persons_name_can_be_corrected(self) -> None:
        person = make_citizen(full_name="Nguyen Van An", death_date=date(2020, 1, 1))
        services.citizen_correct(
            actor=OFFICIAL,
            pin=person.pk,
            changes={"full_name": "Nguyễn Văn An"},
            reason="sai dấu",
            today=TODAY,
        )
        event = person.events.get(kind="correction")
        assert (event.before, event.after) == (
            {"full_name": "Nguyen Van An"},
            {"full_name": "Nguyễn Văn An"},
        )

    def test_sex_or_year_that_disagree_with_the_pin_are_refused(self) -> None:
        person = make_citizen()
        with refused("sex", "là của một người nam"):
            services.citizen_correct(
                actor=OFFICIAL, pin=person.pk, changes={"sex": "F"}, reason="x", today=TODAY
            )
        with refused("birth_date", "mã hoá năm sinh 1984"):
            services.citizen_correct(
                actor=OFFICIAL,
                pin=person.pk,
                changes={"birth_date": "1985-01-01"},
                reason="x",
                today=TODAY,
            )

    def test_a_partial_birth_date_in_the_same_year_is_accepted(self) -> None:
        person = make_citizen()
        services.citizen_correct(
            actor=OFFICIAL, pin=person.pk, changes={"birth_date": "1984"}, reason="x", today=TODAY
        )
        person.refresh_from_db()
        assert (person.birth_date, person.birth_date_precision) == (date(1984, 1, 1), "year")

    def test_unknown_fields_a_missing_reason_and_bad_dates_are_refused(self) -> None:
        person = make_citizen()
        with refused("pin"):
            services.citizen_correct(
                actor=OFFICIAL, pin=person.pk, changes={"pin": "087084000001"}, reason="x"
            )
        with refused("reason"):
            services.citizen_correct(
                actor=OFFICIAL, pin=person.pk, changes={"ethnicity": "Tày"}, reason=" "
            )
        with refused("birth_date", "không phải ngày có thật"):
            services.citizen_correct(
                actor=OFFICIAL, pin=person.pk, changes={"birth_date": "1984-02-31"}, reason="x"
            )

    def test_an_old_id_number_already_held_by_someone_else_is_refused(self) -> None:
        make_citizen(cmnd="123456789")
        other = make_citizen(full_name="Phạm Văn Bình")
        with refused("cmnd", "đã thuộc người khác"):
            services.citizen_correct(
                actor=OFFICIAL, pin=other.pk, changes={"cmnd": "123456789"}, reason="x"
            )


class TestResidence:
    def test_moving_closes_the_old_permanent_residence_and_household(self) -> None:
        person = make_citizen()
        first, second = ward_keys()[:2]
        services.residence_move(
            actor=OFFICIAL,
            pin=person.pk,
            move=ResidenceMove(
                kind="permanent", since=date(2010, 1, 1), ward=first, address="Số 1 Lê Lợi"
            ),
            today=TODAY,
        )
        services.residence_move(
            actor=OFFICIAL,
            pin=person.pk,
            move=ResidenceMove(
                kind="permanent", since=date(2020, 1, 1), ward=second, address="Thôn 3"
            ),
            today=TODAY,
        )
        rows = list(person.residences.order_by("valid_from").values_list("ward", "valid_to"))
        assert rows == [(first, date(2020, 1, 1)), (second, None)]
        assert HouseholdMember.objects.filter(citizen=person, left_on__isnull=True).count() == 1

    def test_the_database_refuses_two_current_permanent_residences(self) -> None:
        person = make_citizen()
        Residence.objects.create(
            citizen=person, kind="permanent", ward="w", address="a", valid_from=date(2000, 1, 1)
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Residence.objects.create(
                citizen=person, kind="permanent", ward="w", address="b", valid_from=date(2001, 1, 1)
            )

    def test_joining_a_household_and_the_head_cannot_leave_it_alone(self) -> None:
        head, child = (
            make_citizen(),
            make_citizen(full_name="Nguyễn Văn Bình", birth_date=date(2010, 1, 1)),
        )
        services.residence_move(
            actor=OFFICIAL,
            pin=head.pk,
            move=ResidenceMove(
                kind="permanent", since=date(2010, 1, 1), ward=ward_keys()[0], address="Số 5"
            ),
            today=TODAY,
        )
        household_id = HouseholdMember.objects.get(citizen=head).household_id
        services.residence_move(
            actor=OFFICIAL,
            pin=child.pk,
            move=ResidenceMove(
                kind="permanent",
                since=date(2010, 2, 1),
                household_id=household_id,
                relation="child",
            ),
            today=TODAY,
        )
        assert child.residences.get().address == "Số 5"
        with refused("pin", "chọn chủ hộ mới trước"):
            services.residence_move(
                actor=OFFICIAL,
                pin=head.pk,
                move=ResidenceMove(
                    kind="permanent", since=date(2020, 1, 1), ward=ward_keys()[1], address="Số 9"
                ),
                today=TODAY,
            )

    def test_bad_moves_are_refused(self) -> None:
        person = make_citizen()
        with refused("ward", "Không có đơn vị hành chính"):
            services.residence_move(
                actor=OFFICIAL,
                pin=person.pk,
                move=ResidenceMove(
                    kind="temporary", since=date(2020, 1, 1), ward="2025:nope", address="Số 1"
                ),
            )
        with refused("household_id", "Chỉ đăng ký thường trú"):
            services.residence_move(
                actor=OFFICIAL,
                pin=person.pk,
                move=ResidenceMove(
                    kind="temporary", since=date(2020, 1, 1), household_id=1, relation="child"
                ),
            )
        with refused("since", "Trước ngày sinh"):
            services.residence_move(
                actor=OFFICIAL,
                pin=person.pk,
                move=ResidenceMove(
                    kind="temporary", since=date(1980, 1, 1), ward=ward_keys()[0], address="Số 1"
                ),
            )


class TestMarriage:
    def test_marriage_links_both_and_divorce_unlinks_both(self) -> None:
        man, woman = (
            make_citizen(),
            make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1988, 1, 1)),
        )
        services.marriage_register(
            actor=OFFICIAL, pin_a=man.pk, pin_b=woman.pk, married_on=date(2012, 5, 1)
        )
        man.refresh_from_db()
        woman.refresh_from_db()
        assert (man.spouse_pin, woman.spouse_pin) == (woman.pk, man.pk)
        services.divorce_register(actor=OFFICIAL, pin=woman.pk, divorced_on=date(2020, 1, 1))
        assert set(
            Citizen.objects.filter(pk__in=[man.pk, woman.pk]).values_list("spouse_pin", flat=True)
        ) == {""}

    def test_under_age_siblings_and_the_already_married_are_refused(self) -> None:
        man = make_citizen()
        girl = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(2000, 1, 1))
        with refused("pin_b", "chưa đủ tuổi kết hôn"):
            services.marriage_register(
                actor=OFFICIAL, pin_a=man.pk, pin_b=girl.pk, married_on=date(2017, 1, 1)
            )
        mother = make_citizen(full_name="Lê Thị Hoa", sex="F", birth_date=date(1960, 1, 1))
        brother = make_citizen(
            full_name="Trần Văn Nam", birth_date=date(1985, 1, 1), mother_pin=mother.pk
        )
        sister = make_citizen(
            full_name="Trần Thị Nga", sex="F", birth_date=date(1987, 1, 1), mother_pin=mother.pk
        )
        with refused("pin_b", "huyết thống"):
            services.marriage_register(
                actor=OFFICIAL, pin_a=brother.pk, pin_b=sister.pk, married_on=date(2015, 1, 1)
            )
        services.marriage_register(
            actor=OFFICIAL, pin_a=man.pk, pin_b=sister.pk, married_on=date(2015, 1, 1)
        )
        with refused("pin_a", "đang có vợ/chồng"):
            services.marriage_register(
                actor=OFFICIAL, pin_a=man.pk, pin_b=girl.pk, married_on=date(2022, 1, 1)
            )


class TestCardsAndRebuild:
    def test_renewing_a_card_replaces_the_old_one(self) -> None:
        person = make_citizen(birth_date=date(2000, 6, 15))
        assert services.idcard_issue(
            actor=OFFICIAL, pin=person.pk, issued_on=date(2016, 1, 1)
        ) == date(2025, 6, 15)
        services.idcard_issue(actor=OFFICIAL, pin=person.pk, issued_on=date(2025, 6, 1))
        assert list(person.cards.order_by("issued_on").values_list("status", flat=True)) == [
            "replaced",
            "active",
        ]

    def test_the_record_is_rebuilt_from_its_events(self) -> None:
        person = make_citizen(full_name="Nguyen Van An")
        services.citizen_correct(
            actor=OFFICIAL, pin=person.pk, changes={"full_name": "Nguyễn Văn An"}, reason="dấu"
        )
        Citizen.objects.filter(pk=person.pk).update(full_name="Sửa Tay", ethnicity="Tày")
        assert services.citizen_rebuild(actor=OFFICIAL, pin=person.pk) == ["ethnicity", "full_name"]
        person.refresh_from_db()
        assert (person.full_name, person.ethnicity) == ("Nguyễn Văn An", "Kinh")
        assert services.citizen_rebuild(actor=OFFICIAL, pin=person.pk) == []


def test_life_events_cannot_be_edited_or_deleted() -> None:
    person = make_citizen()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LifeEvent.objects.filter(citizen=person).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LifeEvent.objects.filter(citizen=person).delete()
