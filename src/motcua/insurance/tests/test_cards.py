"""Codes and validity of health-insurance cards: properties over every birth date."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from motcua.insurance.cards import (
    CODE,
    NUMBER,
    add_years,
    card_code,
    child_card_valid_to,
    insurance_number_random,
    province_of_pin,
    sixth_birthday,
)

births = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
provinces = st.integers(min_value=1, max_value=96).map(lambda n: f"{n:03d}")


@given(birth=births)
def test_a_child_card_ends_at_the_sixth_birthday_or_the_school_year(birth: date) -> None:
    valid_to = child_card_valid_to(birth)
    sixth = sixth_birthday(birth)
    assert valid_to >= sixth - timedelta(days=1)  # never shorter than the law's 72 months
    if sixth.month <= 9:  # the child has not started school yet: to 30 September
        assert valid_to == date(sixth.year, 9, 30)
    else:
        assert valid_to == sixth - timedelta(days=1)
    assert valid_to.year == sixth.year


@given(birth=births)
def test_the_sixth_birthday_is_six_years_on(birth: date) -> None:
    sixth = sixth_birthday(birth)
    assert sixth.year == birth.year + 6
    assert (sixth.month, sixth.day) == (birth.month, birth.day) or (birth.month, birth.day) == (
        2,
        29,
    )


def test_a_child_born_on_29_february_turns_six_on_28_february() -> None:
    assert add_years(date(2024, 2, 29), 6) == date(2030, 2, 28)
    assert child_card_valid_to(date(2024, 2, 29)) == date(2030, 9, 30)


def test_the_example_dates() -> None:
    assert child_card_valid_to(date(2026, 5, 15)) == date(2032, 9, 30)
    assert child_card_valid_to(date(2026, 11, 20)) == date(2032, 11, 19)
    assert child_card_valid_to(date(2026, 10, 1)) == date(2032, 9, 30)


@given(province=provinces, serial=st.integers(min_value=0, max_value=999_999))
def test_a_card_code_has_15_characters_and_ends_with_the_insurance_number(
    province: str, serial: int
) -> None:
    pin = f"{province}2{26:02d}{serial:06d}"
    number = insurance_number_random(province_of_pin(pin))
    assert NUMBER.match(number)
    assert number[:2] == province[1:]
    code = card_code(group="TE", level="1", province=province_of_pin(pin), number=number)
    assert CODE.match(code)
    assert len(code) == 15
    assert code.startswith("TE1" + province[1:]) and code.endswith(number)
