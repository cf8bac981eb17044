"""The units and mapping the migrations load, and the SQL helpers they create."""

from __future__ import annotations

import time
import unicodedata
from datetime import date

import pytest
from django.db import connection
from django.db.models import Count

from motcua.geo.loader import units_load
from motcua.geo.merger_2025 import PROVINCE_MERGER_2025
from motcua.geo.models import AdministrativeUnit, UnitMapping

pytestmark = pytest.mark.django_db


def _counts(scheme: str) -> dict[str, int]:
    rows = AdministrativeUnit.objects.filter(scheme=scheme).values("level").annotate(n=Count("key"))
    return {row["level"]: row["n"] for row in rows}


def test_the_2025_scheme_has_34_provinces_and_no_districts() -> None:
    counts = _counts("2025")
    assert counts["province"] == 34
    assert 3300 <= counts["ward"] <= 3350
    assert "district" not in counts


def test_the_pre2025_scheme_has_63_provinces_and_its_districts_and_wards() -> None:
    counts = _counts("pre2025")
    assert counts["province"] == 63
    assert 690 <= counts["district"] <= 720
    assert 10000 <= counts["ward"] <= 11000


def test_validity_dates_split_at_1_july_2025() -> None:
    current = AdministrativeUnit.objects.filter(scheme="2025")
    legacy = AdministrativeUnit.objects.filter(scheme="pre2025")
    assert set(current.values_list("valid_from", "valid_to").distinct()) == {
        (date(2025, 7, 1), None)
    }
    assert set(legacy.values_list("valid_to", flat=True).distinct()) == {date(2025, 6, 30)}


def test_keys_are_scheme_and_code_and_parents_stay_in_their_scheme() -> None:
    province_keys = set(
        AdministrativeUnit.objects.filter(level="province").values_list("key", flat=True)
    )
    mismatched = [
        u
        for u in AdministrativeUnit.objects.select_related("parent")
        if u.key != f"{u.scheme}:{u.code}"
        or (u.parent and u.parent.scheme != u.scheme)
        or u.province_id not in province_keys
    ]
    assert mismatched == []


def test_names_are_nfc_with_single_spaces() -> None:
    names = AdministrativeUnit.objects.values_list("name", flat=True)
    bad = [n for n in names if n != unicodedata.normalize("NFC", n) or n != " ".join(n.split())]
    assert bad == []


def test_full_names_walk_up_the_parents() -> None:
    assert AdministrativeUnit.objects.get(pk="pre2025:26740").full_name == (
        "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
    )
    assert AdministrativeUnit.objects.get(pk="2025:26740").full_name == (
        "Phường Sài Gòn, Thành phố Hồ Chí Minh"
    )


def test_every_old_province_maps_by_law_to_one_new_province() -> None:
    law = UnitMapping.objects.filter(basis="law")
    assert law.count() == 63
    assert law.values("old").distinct().count() == 63
    assert law.values("new").distinct().count() == 34
    assert UnitMapping.objects.filter(old="pre2025:02", new="2025:08").exists()  # Hà Giang


def test_wards_that_kept_their_code_stay_in_the_merged_province() -> None:
    """A 2025 ward reuses the code of one of the wards it absorbed: check that the old ward's
    province was merged into the new ward's province, for every such pair."""
    old_to_new = {
        f"pre2025:{old}": f"2025:{new}"
        for new, olds in PROVINCE_MERGER_2025.items()
        for old in olds
    }
    kept = UnitMapping.objects.filter(basis="code_kept").select_related("old", "new")
    assert kept.count() > 3000
    assert all(old_to_new[m.old.province_id] == m.new.province_id for m in kept)


def test_fold_drops_case_accents_and_d_stroke_and_is_immutable() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT motcua_fold(%s), motcua_fold(%s)", ["ĐẮK LẮK", "Thừa Thiên Huế"])
        assert cursor.fetchone() == ("dak lak", "thua thien hue")
        cursor.execute("SELECT provolatile FROM pg_proc WHERE proname = 'motcua_fold'")
        assert cursor.fetchone() == ("i",)


def test_loading_again_changes_nothing_and_is_fast() -> None:
    before = (AdministrativeUnit.objects.count(), UnitMapping.objects.count())
    started = time.monotonic()
    counts = units_load(AdministrativeUnit, UnitMapping)
    assert time.monotonic() - started < 10
    assert (counts.units, counts.mappings) == before
    assert (AdministrativeUnit.objects.count(), UnitMapping.objects.count()) == before
