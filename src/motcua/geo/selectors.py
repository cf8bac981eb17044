"""Reads of administrative units: the public face of the geo app. Returns frozen dataclasses.

Units are named by key, "<scheme>:<code>": "2025:79" (Thành phố Hồ Chí Minh since 1 July 2025),
"pre2025:74" (Tỉnh Bình Dương until 30 June 2025), "2025:26740" (a ward).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Case, F, FloatField, Func, IntegerField, QuerySet, Value, When

from motcua.geo.models import AdministrativeUnit, Level, Scheme, UnitMapping, fold

__all__ = [
    "Level",
    "Scheme",
    "UnitInfo",
    "legacy_province_by_pin_code",
    "provinces",
    "unit_current",
    "unit_get",
    "units_get",
    "units_now",
    "units_search",
    "wards_of",
]

MAX_SEARCH_LIMIT = 100
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class UnitInfo:
    key: str
    scheme: str
    code: str
    name: str
    kind: str
    level: str
    parent_key: str | None
    province_key: str
    valid_from: date | None
    valid_to: date | None
    full_name: str


_FIELDS = (
    "key",
    "scheme",
    "code",
    "name",
    "kind",
    "level",
    "parent_id",
    "province_id",
    "valid_from",
    "valid_to",
    "full_name",
)


def _info(row: dict[str, Any]) -> UnitInfo:
    return UnitInfo(
        key=row["key"],
        scheme=row["scheme"],
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        level=row["level"],
        parent_key=row["parent_id"],
        province_key=row["province_id"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        full_name=row["full_name"],
    )


def _infos(units: QuerySet[AdministrativeUnit]) -> list[UnitInfo]:
    return [_info(row) for row in units.values(*_FIELDS)]


def unit_get(key: str) -> UnitInfo | None:
    found = _infos(AdministrativeUnit.objects.filter(pk=key))
    return found[0] if found else None


# Units are master data that change only when `motcua geo load` runs (after a package upgrade,
# followed by a restart), so each process keeps the ones it has read: hot paths such as a
# registry lookup then resolve place names without a query.
_known_units: dict[str, UnitInfo] = {}


def units_get(keys: Iterable[str]) -> dict[str, UnitInfo]:
    """The known units among `keys` (at most one query); unknown or empty keys are left out."""
    wanted = {key for key in keys if key}
    missing = wanted - _known_units.keys()
    if missing:
        _known_units.update(
            (u.key, u) for u in _infos(AdministrativeUnit.objects.filter(pk__in=missing))
        )
    return {key: _known_units[key] for key in wanted if key in _known_units}


_LEVEL_ORDER = Case(
    When(level=Level.PROVINCE, then=Value(0)),
    When(level=Level.DISTRICT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _score(function: str, *args: Func | F) -> Func:
    """A pg_trgm similarity function (the stubs of Django's wrappers only take plain strings)."""
    return Func(*args, function=function, output_field=FloatField())


def units_search(
    q: str, *, level: str | None = None, scheme: str | None = None, limit: int = 20
) -> list[UnitInfo]:
    """Units whose name matches `q`, best first: accent- and case-insensitive, typo-tolerant.

    Matches on trigram word similarity of the folded names (so "ho chi minh" finds
    "Thành phố Hồ Chí Minh"); ties go to the higher level, the closer whole name, 2025 units.
    """
    query = unicodedata.normalize("NFC", q.strip())[:MAX_QUERY_LENGTH]
    if not query:
        return []
    folded_query = fold(Value(query))
    units = AdministrativeUnit.objects.annotate(folded_name=fold(F("name"))).filter(
        folded_name__trigram_word_similar=folded_query
    )
    if level:
        units = units.filter(level=level)
    if scheme:
        units = units.filter(scheme=scheme)
    ranked = units.annotate(
        word_score=_score("word_similarity", folded_query, F("folded_name")),
        name_score=_score("similarity", F("folded_name"), folded_query),
        level_order=_LEVEL_ORDER,
        is_legacy=Case(When(scheme=Scheme.PRE2025, then=Value(1)), default=Value(0)),
    ).order_by("-word_score", "level_order", "-name_score", "is_legacy", "key")
    return _infos(ranked[: max(1, min(limit, MAX_SEARCH_LIMIT))])


def unit_current(key: str) -> list[UnitInfo]:
    """What the unit is now: itself if it is a 2025 unit; for an old unit its successors.

    An old ward whose code a 2025 ward kept resolves to that ward; other old wards and old
    districts resolve to the 2025 province their old province was merged into (the finer
    mapping is not in the installed data). Unknown key: [].
    """
    unit = AdministrativeUnit.objects.filter(pk=key).values(*_FIELDS).first()
    if unit is None:
        return []
    if unit["scheme"] == Scheme.CURRENT:
        return [_info(unit)]
    return _successors(key) or _successors(unit["province_id"])


@dataclass(frozen=True)
class UnitNow:
    ward_key: str | None  # the 2025 ward, when the unit is one or maps to exactly one
    province_key: str | None  # the 2025 province


def units_now(keys: Iterable[str]) -> dict[str, UnitNow]:
    """`unit_current` for many keys at once (three queries), reduced to the 2025 ward and
    province: batch linkage compares addresses this way. Unknown keys are left out."""
    rows = {
        row["key"]: row
        for row in AdministrativeUnit.objects.filter(pk__in=set(keys)).values(
            "key", "scheme", "level", "province_id"
        )
    }
    old = [key for key, row in rows.items() if row["scheme"] != Scheme.CURRENT]
    old_provinces = {rows[key]["province_id"] for key in old}
    successors: dict[str, list[tuple[str, str, str]]] = {}
    for link in UnitMapping.objects.filter(old_id__in=[*old, *old_provinces]).values(
        "old_id", "new_id", "new__level", "new__province_id"
    ):
        successors.setdefault(link["old_id"], []).append(
            (link["new_id"], link["new__level"], link["new__province_id"])
        )
    return {key: _now(row, successors) for key, row in rows.items()}


def _now(row: Mapping[str, Any], successors: dict[str, list[tuple[str, str, str]]]) -> UnitNow:
    if row["scheme"] == Scheme.CURRENT:
        ward = row["key"] if row["level"] == Level.WARD else None
        return UnitNow(ward, row["province_id"])
    own = successors.get(row["key"], [])
    if len(own) == 1 and own[0][1] == Level.WARD:
        return UnitNow(own[0][0], own[0][2])
    provinces = {province for _, _, province in own} or {
        province for _, _, province in successors.get(row["province_id"], [])
    }
    return UnitNow(None, provinces.pop() if len(provinces) == 1 else None)


def _successors(old_key: str) -> list[UnitInfo]:
    new_keys = UnitMapping.objects.filter(old_id=old_key).values("new_id")
    return _infos(AdministrativeUnit.objects.filter(pk__in=new_keys).order_by("key"))


def provinces(scheme: str = Scheme.CURRENT) -> list[UnitInfo]:
    units = AdministrativeUnit.objects.filter(scheme=scheme, level=Level.PROVINCE)
    return _infos(units.order_by("code"))


def wards_of(province_key: str) -> list[UnitInfo]:
    """Every ward of a province (of either scheme), by code."""
    units = AdministrativeUnit.objects.filter(province_id=province_key, level=Level.WARD)
    return _infos(units.order_by("code"))


def legacy_province_by_pin_code(code3: str) -> UnitInfo | None:
    """The pre-2025 province behind a PIN's 3-digit place code ("087" → Tỉnh Đồng Tháp).

    PIN codes are the pre-2025 statistics codes zero-padded to three digits; codes of births
    registered abroad are not provinces and give None.
    """
    if len(code3) != 3 or not code3.isascii() or not code3.isdigit() or code3[0] != "0":
        return None
    unit = unit_get(f"{Scheme.PRE2025}:{code3[1:]}")
    return unit if unit and unit.level == Level.PROVINCE else None
