"""Partial dates of birth and ID card renewal ages, property-tested."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motcua.registry.cards import RENEWAL_AGES, card_expiry
from motcua.registry.dates import PartialDate, add_years, age_on

births = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@given(births, st.sampled_from(["day", "month", "year"]))
def test_partial_date_text_round_trip(day: date, precision: str) -> None:
    partial = PartialDate.parse(str(PartialDate(day, precision)))
    assert partial.precision == precision
    assert partial.value <= day <= partial.latest or precision == "day"
    assert PartialDate.parse(str(partial)) == partial


@pytest.mark.parametrize("text", ["1984-13", "1984-02-30", "84", "1984/05/12", "", "1984-5-1"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.parse(text)


def test_latest_day_of_a_partial_date() -> None:
    assert PartialDate.parse("2024-02").latest == date(2024, 2, 29)
    assert PartialDate.parse("1984").latest == date(1984, 12, 31)


@given(births, st.integers(min_value=0, max_value=120))
def test_age_on_the_birthday_n_years_later_is_n(birth: date, years: int) -> None:
    assert age_on(birth, add_years(birth, years)) == years or (birth.month, birth.day) == (2, 29)


@given(births, st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_card_expires_at_a_renewal_age_after_issue(birth: date, issued: date) -> None:
    expiry = card_expiry(birth_date=birth, issued_on=issued)
    if expiry is None:
        assert issued >= add_years(birth, 58)
    else:
        assert expiry > issued
        assert age_on(birth, expiry) in RENEWAL_AGES or (birth.month, birth.day) == (2, 29)


def test_card_issued_within_two_years_of_a_renewal_age_lasts_to_the_next() -> None:
    birth = date(2000, 6, 15)
    assert card_expiry(birth_date=birth, issued_on=date(2022, 6, 14)) == date(2025, 6, 15)
    assert card_expiry(birth_date=birth, issued_on=date(2023, 7, 1)) == date(2040, 6, 15)
    assert card_expiry(birth_date=date(1960, 1, 1), issued_on=date(2018, 1, 1)) is None
