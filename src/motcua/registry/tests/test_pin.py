"""PIN rules, DOMAIN.md §1, property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motcua.registry.pin import (
    PROVINCE_CODES,
    InvalidPin,
    century_sex_digit,
    pin_disagreements,
    pin_explain,
    pin_parse,
    pin_prefix,
    pin_random,
)

provinces = st.sampled_from(sorted(PROVINCE_CODES))
sexes = st.sampled_from(["M", "F"])
years = st.integers(min_value=1900, max_value=2399)


def test_the_domain_example() -> None:
    info = pin_parse("087084000999")
    assert (info.province_name, info.sex, info.birth_year) == ("Đồng Tháp", "M", 1984)


@pytest.mark.parametrize(
    ("sex", "year", "digit"),
    [
        ("M", 1900, 0),
        ("F", 1999, 1),
        ("M", 2000, 2),
        ("F", 2099, 3),
        ("M", 2100, 4),
        ("F", 2399, 9),
    ],
)
def test_century_sex_digit_table(sex: str, year: int, digit: int) -> None:
    assert century_sex_digit(sex=sex, birth_year=year) == digit


@given(provinces, sexes, years)
def test_generated_pins_round_trip(province: str, sex: str, year: int) -> None:
    pin = pin_random(province_code=province, sex=sex, birth_year=year)
    info = pin_parse(pin)
    assert len(pin) == 12 and pin.isdigit()
    assert (info.province_code, info.sex, info.birth_year) == (province, sex, year)
    assert pin_disagreements(pin, sex=sex, birth_year=year) == {}


@given(provinces, sexes, years, sexes, years)
def test_disagreement_is_reported_per_field(
    province: str, sex: str, year: int, other_sex: str, other_year: int
) -> None:
    pin = pin_random(province_code=province, sex=sex, birth_year=year)
    errors = pin_disagreements(pin, sex=other_sex, birth_year=other_year)
    assert ("sex" in errors) == (sex != other_sex)
    assert ("birth_date" in errors) == (year != other_year)


@given(st.text(alphabet="0123456789", min_size=0, max_size=20).filter(lambda s: len(s) != 12))
def test_wrong_length_is_refused_with_the_length(text: str) -> None:
    with pytest.raises(InvalidPin, match=f"có {len(text)} ký tự"):
        pin_parse(text)


@given(
    st.integers(min_value=0, max_value=999)
    .map(lambda n: f"{n:03d}")
    .filter(lambda c: c not in PROVINCE_CODES)
)
def test_unknown_province_is_named(code: str) -> None:
    with pytest.raises(InvalidPin, match=f"mã tỉnh {code} không tồn tại"):
        pin_parse(code + "084000999")


@pytest.mark.parametrize(
    ("pin", "position"), [("08708400099x", 12), ("O87084000999", 1), ("０87084000999", 1)]
)
def test_non_digit_position_is_named(pin: str, position: int) -> None:
    with pytest.raises(InvalidPin, match=f"ký tự thứ {position} "):
        pin_parse(pin)


def test_year_outside_the_scheme_is_refused() -> None:
    with pytest.raises(InvalidPin):
        pin_prefix(province_code="001", sex="M", birth_year=1899)


def test_explain_says_valid_or_why_not() -> None:
    assert pin_explain("087084000999") == (
        True,
        "087084000999: hợp lệ — nơi đăng ký khai sinh 087 Đồng Tháp, nam, sinh năm 1984",
    )
    ok, line = pin_explain("003084000999")
    assert not ok and "mã tỉnh 003 không tồn tại" in line
