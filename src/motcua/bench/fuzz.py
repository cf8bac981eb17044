"""`motcua bench fuzz`: schemathesis over the whole OpenAPI document (/api/openapi.json), in
process through the WSGI application, with valid credentials for each kind of caller. Every
operation gets `examples` generated cases that fit its schema and as many that do not.

Counted: server errors (5xx), statuses an operation does not declare, and answers whose body does
not match the schema declared for their status. The test suite runs the same with a few examples
(bench/tests/test_openapi_fuzz.py); the bench runs longer, in a database of its own."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client

from motcua.core.actors import SYSTEM
from motcua.core.apikeys import apikey_create

OPENAPI = "/api/openapi.json"


@dataclass
class FuzzResult:
    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    undocumented_statuses: int = 0
    schema_mismatches: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # the first few failures, to reproduce

    def note(self, label: str) -> None:
        if len(self.samples) < 20:
            self.samples.append(label)

    def as_dict(self, seconds: float) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "cases": self.cases,
            "server_errors": self.server_errors,
            "undocumented_statuses": self.undocumented_statuses,
            "schema_mismatches": self.schema_mismatches,
            "statuses": dict(sorted(self.statuses.items())),
            "seconds": round(seconds, 1),
            "samples": self.samples,
        }


def credentials() -> dict[str, str]:
    """A bearer for each kind of API caller, made in the current database: a superuser's API key
    (registry) and a partner's client-credentials token with the `ekyc` scope (identity)."""
    from django.contrib.auth.models import User

    from motcua.identity import services as identity

    user, _ = User.objects.get_or_create(username="fuzz-admin")
    user.is_superuser = True
    user.is_staff = True
    user.save()
    staff = apikey_create(name="fuzz", user=user)
    _, partner = identity.partner_add(actor=SYSTEM, name="Fuzz bank", rate_per_second=100_000)
    basic = base64.b64encode(f"{partner.client_id}:{partner.client_secret}".encode()).decode()
    response = Client(HTTP_HOST="localhost").post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "ekyc"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    if response.status_code != 200:
        raise RuntimeError(f"no partner token: {response.status_code} {response.content!r}")
    return {"staff": staff, "partner": str(response.json()["access_token"])}


def headers_by_path(tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    def headers(path: str) -> dict[str, str]:
        token = tokens["partner" if path.startswith("/api/identity/") else "staff"]
        return {"Authorization": f"Bearer {token}"}

    return headers


@contextmanager
def _requests_in_this_connection() -> Iterator[None]:
    """Like Django's test client: a request does not close the database connection (a test's
    transaction stays open)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _check(
    case: Any, response: Any, *, result: FuzzResult, label: str, documented: set[str]
) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    status = str(response.status_code)
    result.cases += 1
    result.statuses[status] = result.statuses.get(status, 0) + 1
    label = f"{label} → {status}"
    if response.status_code >= 500:
        result.server_errors += 1
        result.note(f"{label}: {case.as_curl_command()}")
    elif status not in documented and "default" not in documented:
        result.undocumented_statuses += 1
        result.note(f"{label} (undocumented): {case.as_curl_command()}")
    else:
        checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:
            result.schema_mismatches += 1
            result.note(f"{label} (body): {str(exc).splitlines()[0][:200]}")


def _run_operation(
    operation: Any,
    mode: Any,
    *,
    examples: int,
    seed: int | None,
    auth: dict[str, str],
    result: FuzzResult,
) -> None:
    import hypothesis
    from hypothesis import HealthCheck, Phase

    documented = {str(code) for code in operation.definition.raw.get("responses", {})}
    label = f"{operation.method.upper()} {operation.path} {mode.value}"

    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=seed is not None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Any) -> None:
        response = case.call(headers=auth)
        _check(case, response, result=result, label=label, documented=documented)

    one()


def fuzz(
    *, examples: int, headers: Callable[[str], dict[str, str]], seed: int | None = 0
) -> dict[str, Any]:
    """Run every operation of the API with `examples` positive and `examples` negative cases."""
    import schemathesis
    from schemathesis.core.result import Err
    from schemathesis.generation import GenerationMode

    started = time.perf_counter()
    result = FuzzResult()
    with _requests_in_this_connection():
        schema = schemathesis.openapi.from_wsgi(OPENAPI, get_wsgi_application())
        for found in schema.get_all_operations():
            if isinstance(found, Err):  # an operation the document describes wrongly
                raise found.err()
            operation = found.ok()
            result.operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run_operation(
                    operation,
                    mode,
                    examples=examples,
                    seed=seed,
                    auth=headers(operation.path),
                    result=result,
                )
    return result.as_dict(time.perf_counter() - started)


def run(*, examples: int, citizens: int, seed: int) -> dict[str, Any]:
    """The bench: a small population, then the fuzz run (inside the bench's own database)."""
    from motcua.registry.seed import population_load

    population_load(citizens, province_key="2025:82", seed=seed)
    return fuzz(examples=examples, headers=headers_by_path(credentials()), seed=seed)
