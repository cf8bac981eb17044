"""schemathesis over the whole OpenAPI document with a few examples per operation: no server
error, no status an operation does not declare, every body as declared for its status. The
longer run is `motcua bench fuzz`."""

from __future__ import annotations

import pytest

from motcua.bench.fuzz import credentials, fuzz, headers_by_path
from motcua.registry.tests.factories import make_citizen

EXAMPLES = 15


@pytest.mark.django_db
def test_attack_fuzzing_every_api_operation_finds_no_server_error_and_no_undocumented_status() -> (
    None
):
    make_citizen()  # someone to find
    result = fuzz(examples=EXAMPLES, headers=headers_by_path(credentials()))
    assert result["operations"] >= 7
    assert result["cases"] >= result["operations"] * 2
    assert (result["server_errors"], result["undocumented_statuses"]) == (0, 0), result["samples"]
    assert result["schema_mismatches"] == 0, result["samples"]
