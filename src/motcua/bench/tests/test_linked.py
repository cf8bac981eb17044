"""`motcua bench linked` at a tiny scale, in the test database: the JSON line's fields, and numbers
that make sense (every birth completed both ways with the registry changed as the law says, the
citizen typing less for a package). The full run is `motcua bench linked`."""

from __future__ import annotations

import json

import pytest

from motcua.bench import linked
from motcua.dossiers.models import Dossier, Package

PACKAGES = 3
FIELDS = (
    "packages",
    "package_s",
    "packages_per_s",
    "separate_per_s",
    "work_ratio",
    "citizen_fields_package",
    "citizen_fields_separate",
    "citizen_files_package",
    "citizen_files_separate",
)


# Transactional: the population loads batch by batch and the worker processes read what the
# run committed; the serialized rollback brings back the migrations' data after the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tiny_run_prints_every_field_with_sane_numbers() -> None:
    result = linked.run(packages=PACKAGES, seed=3, workers=2)

    assert list(result)[: len(FIELDS)] == list(FIELDS)
    json.dumps(result)  # one JSON line
    assert result["packages"] == PACKAGES
    assert (result["packages_failed"], result["separate_failed"], result["failures"]) == (0, 0, [])
    births = 1 + linked.SOLO + 1 + PACKAGES  # counting the citizen's work, alone, queries, load
    assert Package.objects.filter(status="completed").count() == births
    assert Dossier.objects.filter(status="result_issued").count() == 6 * births
    assert result["outcomes_ok"] is True
    for way in ("package", "separate"):
        outcome = result["outcomes"][way]
        assert outcome["births_registered"] == births
        assert outcome["in_parents_household"] == outcome["with_health_card"] == births
    assert 0 < result["package_s"] < 60 and 0 < result["separate_s"] < 60
    assert result["packages_per_s"] > 0 and result["separate_per_s"] > 0
    # The same three decisions each way: the package's extra work is its saga, not a multiple.
    assert 0.5 < result["work_ratio"] < 5
    assert result["work_ms_package"] > result["advance_client_ms_per_package"] > 0
    assert result["queries_package"] > 0 and result["queries_separate"] > 0
    # The package form asks the child's name, sex, date and place of birth and the hospital's
    # certificate; filed one by one, the parent also types the parents, household and the
    # child's PIN into three forms.
    assert result["citizen_fields_package"] == 4
    assert result["citizen_fields_separate"] >= 3 * result["citizen_fields_package"]
    assert result["citizen_files_package"] == 1
    assert result["citizen_files_separate"] >= 1


def test_nothing_to_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        linked.run(packages=0, seed=1, workers=2)
