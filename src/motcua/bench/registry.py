"""`motcua bench registry`: load rate against a raw COPY, PIN lookups through the service and over
HTTP, fuzzy search. Runs inside a database of its own (see the bench command)."""

from __future__ import annotations

import io
import random
import sys
import time
import unicodedata
from typing import Any

import httpx
from django.contrib.auth.models import Permission, User
from django.db import connection

from motcua.bench.harness import median, percentile, running_server, timed_ms
from motcua.core.actors import Actor
from motcua.core.apikeys import apikey_create
from motcua.registry import selectors
from motcua.registry.seed import population_load

PROVINCE = "2025:82"
PURPOSE = "benchmark"
# Every row a loaded citizen brings: the record, its life event, household, membership,
# residence and ID card.
POPULATION_TABLES = (
    "registry_citizen",
    "registry_lifeevent",
    "registry_household",
    "registry_householdmember",
    "registry_residence",
    "registry_idcard",
)
OFFICIAL = Actor(kind="official", ref="bench", permissions=frozenset({"registry.view_citizen"}))


def run(
    *, citizens: int, seed: int, lookups: int, searches: int, database_url: str
) -> dict[str, Any]:
    load_rate = _load(citizens, seed)
    _log("raw COPY of the same rows ...")
    copy_rate = citizens / _raw_copy_seconds(("registry_citizen",))
    copy_rate_all = citizens / _raw_copy_seconds(POPULATION_TABLES)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    rng = random.Random(seed)
    pins = _sample_pins(rng, lookups)
    service_ms = _service_lookups(pins)
    http_ms = _http_lookups(pins, database_url)
    search_ms, found = _searches(rng, searches)
    return {
        "citizens": citizens,
        "load_rate": round(load_rate),
        "copy_rate": round(copy_rate),
        "load_ratio": round(load_rate / copy_rate, 3),
        "copy_rate_all_tables": round(copy_rate_all),
        "load_ratio_all_tables": round(load_rate / copy_rate_all, 3),
        "pin_p50_ms_service": median(service_ms),
        "pin_p99_ms_service": percentile(service_ms, 99),
        "pin_p50_ms_http": median(http_ms),
        "pin_p99_ms_http": percentile(http_ms, 99),
        "search_p50_ms": median(search_ms),
        "search_p95_ms": percentile(search_ms, 95),
        "search_found_rate": round(found, 3),
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load(citizens: int, seed: int) -> float:
    _log(f"loading {citizens:,} citizens ...")
    start = time.perf_counter()
    population_load(citizens, province_key=PROVINCE, seed=seed)
    return citizens / (time.perf_counter() - start)


def _raw_copy_seconds(tables: tuple[str, ...]) -> float:
    """Seconds to COPY the rows of `tables`, already in memory as COPY text, into copies with no
    index, key or constraint: the ceiling a loader of those rows can approach."""
    dumps = {table: _dump(table) for table in tables}
    elapsed = 0.0
    with connection.cursor() as cursor:
        raw = cursor.connection
        for table, data in dumps.items():
            cursor.execute(f"CREATE TABLE bench_raw_{table} (LIKE {table})")
            start = time.perf_counter()
            with raw.transaction(), raw.cursor().copy(f"COPY bench_raw_{table} FROM STDIN") as copy:
                for offset in range(0, len(data), 1 << 20):
                    copy.write(data[offset : offset + (1 << 20)])
            elapsed += time.perf_counter() - start
            cursor.execute(f"DROP TABLE bench_raw_{table}")
    return elapsed


def _dump(table: str) -> bytes:
    buffer = io.BytesIO()
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} TO STDOUT") as copy,
    ):
        for chunk in copy:
            buffer.write(chunk)
    return buffer.getvalue()


def _sample_pins(rng: random.Random, n: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pin FROM registry_citizen ORDER BY pin")
        pins = [row[0] for row in cursor.fetchall()]
    return rng.choices(pins, k=n)


def _service_lookups(pins: list[str]) -> list[float]:
    _log(f"{len(pins)} PIN lookups through the service ...")

    def lookup(pin: str) -> None:
        selectors.citizen_get(actor=OFFICIAL, pin=pin, purpose=PURPOSE)

    timed_ms(lookup, pins[:100])  # warm-up
    return timed_ms(lookup, pins)


def _http_lookups(pins: list[str], database_url: str) -> list[float]:
    _log(f"{len(pins)} PIN lookups over HTTP ...")
    user = User.objects.create_user(username="bench", password=None)
    user.user_permissions.add(Permission.objects.get(codename="view_citizen"))
    key = apikey_create(name="bench", user=user)
    with (
        running_server(database_url) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client,
    ):

        def lookup(pin: str) -> None:
            response = client.get(f"/api/registry/citizens/{pin}", params={"purpose": PURPOSE})
            response.raise_for_status()

        timed_ms(lookup, pins[:100])  # warm-up
        return timed_ms(lookup, pins)


def _searches(rng: random.Random, n: int) -> tuple[list[float], float]:
    """Names without diacritics and with one typo, plus the exact date of birth."""
    _log(f"{n} fuzzy searches ...")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pin, full_name, birth_date FROM registry_citizen WHERE birth_date_precision = 'day' "
            "ORDER BY pin"
        )
        people = rng.sample(cursor.fetchall(), n)
    samples, found = [], 0
    for pin, name, born in people:
        query = _typo(rng, _strip_accents(name))
        start = time.perf_counter()
        hits = selectors.citizen_search(
            actor=OFFICIAL, purpose=PURPOSE, name=query, birth_date=born.isoformat(), limit=10
        )
        samples.append((time.perf_counter() - start) * 1000)
        found += any(hit.pin == pin for hit in hits)
    return samples, found / n


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _typo(rng: random.Random, text: str) -> str:
    """Replace one letter of the given name (the last word) by a neighbouring letter."""
    position = rng.randrange(text.rfind(" ") + 1, len(text))
    replacement = (
        chr((ord(text[position].lower()) - 97 + 1) % 26 + 97) if text[position].isalpha() else "a"
    )
    return text[:position] + replacement + text[position + 1 :]
