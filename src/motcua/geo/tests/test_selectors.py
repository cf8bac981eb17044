"""The public reads other apps use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from motcua.geo.selectors import (
    UnitInfo,
    legacy_province_by_pin_code,
    provinces,
    unit_current,
    unit_get,
    units_get,
    units_search,
    wards_of,
)

pytestmark = pytest.mark.django_db

# The PIN province codes of DOMAIN.md §1, with a word of each province's name.
PIN_PROVINCES = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh",
    "024": "Bắc Giang", "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh",
    "030": "Hải Dương", "031": "Hải Phòng", "033": "Hưng Yên", "034": "Thái Bình",
    "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An",
    "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận",
    "062": "Kon Tum", "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip


def _keys(units: list[UnitInfo]) -> list[str]:
    return [u.key for u in units]


def test_unit_get_returns_plain_data() -> None:
    ward = unit_get("2025:26740")
    assert ward == UnitInfo(
        key="2025:26740",
        scheme="2025",
        code="26740",
        name="Phường Sài Gòn",
        kind="phường",
        level="ward",
        parent_key="2025:79",
        province_key="2025:79",
        valid_from=date(2025, 7, 1),
        valid_to=None,
        full_name="Phường Sài Gòn, Thành phố Hồ Chí Minh",
    )
    assert unit_get("2025:99") is None


def test_an_old_ward_sits_under_its_district() -> None:
    ward = unit_get("pre2025:26740")
    assert ward is not None
    assert (ward.parent_key, ward.province_key) == ("pre2025:760", "pre2025:79")


def test_units_get_takes_one_query_and_skips_unknown_keys(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    with django_assert_num_queries(1):
        found = units_get(["2025:79", "pre2025:00001", "nope:1", ""])
    assert set(found) == {"2025:79", "pre2025:00001"}
    assert found["pre2025:00001"].name == "Phường Phúc Xá"


@pytest.mark.parametrize("query", ["ho chi minh", "Hồ Chí Minh", "HO CHI MINH", "ho chi mihn"])
def test_search_ignores_accents_case_and_typos(query: str) -> None:
    assert _keys(units_search(query, level="province")) == ["2025:79", "pre2025:79"]


@pytest.mark.parametrize("query", ["Dak Lak", "Đắk Lắk", "dak lac"])
def test_search_finds_dak_lak_first(query: str) -> None:
    assert _keys(units_search(query))[:2] == ["2025:66", "pre2025:66"]


def test_search_filters_by_scheme_and_level_and_limits() -> None:
    assert _keys(units_search("ben nghe", scheme="pre2025")) == ["pre2025:26740"]
    assert units_search("ben nghe", scheme="2025") == []
    districts = units_search("quan 1", level="district", limit=3)
    assert districts[0].key == "pre2025:760"
    assert len(districts) == 3
    assert {u.level for u in districts} == {"district"}


def test_search_of_nothing_finds_nothing() -> None:
    assert units_search("   ") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("pre2025:02", "2025:08"),  # Hà Giang → Tuyên Quang
        ("pre2025:74", "2025:79"),  # Bình Dương → Hồ Chí Minh
        ("pre2025:01", "2025:01"),  # Hà Nội stays
        ("pre2025:26740", "2025:26740"),  # Phường Bến Nghé → Phường Sài Gòn (kept its code)
        ("pre2025:00001", "2025:01"),  # Phường Phúc Xá: no finer mapping, its province
        ("pre2025:760", "2025:79"),  # Quận 1: districts are gone
        ("2025:26740", "2025:26740"),  # a current unit is itself
    ],
)
def test_unit_current(old: str, new: str) -> None:
    assert _keys(unit_current(old)) == [new]


def test_unit_current_of_an_unknown_key_is_empty() -> None:
    assert unit_current("pre2025:99") == []


def test_provinces_of_each_scheme() -> None:
    current = provinces()
    assert len(current) == 34
    assert current[0].full_name == "Thành phố Hà Nội"
    assert {u.scheme for u in current} == {"2025"}
    assert len(provinces("pre2025")) == 63


def test_wards_of_a_province_of_either_scheme() -> None:
    wards = wards_of("2025:79")
    assert 150 <= len(wards) <= 200
    assert {(u.level, u.province_key) for u in wards} == {("ward", "2025:79")}
    assert _keys(wards) == sorted(_keys(wards))
    assert "pre2025:26740" in _keys(wards_of("pre2025:79"))
    assert wards_of("2025:99") == []


def test_every_pin_province_code_names_its_old_province() -> None:
    for code3, name in PIN_PROVINCES.items():
        unit = legacy_province_by_pin_code(code3)
        assert unit is not None, code3
        assert (unit.scheme, unit.level, unit.code) == ("pre2025", "province", code3[1:])
        assert name in unit.name


@pytest.mark.parametrize("code3", ["", "87", "0870", "003", "100", "abc", "٠٨٧"])
def test_other_pin_codes_name_no_province(code3: str) -> None:
    assert legacy_province_by_pin_code(code3) is None
