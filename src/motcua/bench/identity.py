"""`motcua bench identity`: the verification API under 50 concurrent clients (its throughput at
saturation, its latency at an offered 1,000 requests/s) beside the same
database work served by a bare WSGI handler (the ceiling), and full OIDC code flows per second.
Runs inside a database of its own (see the bench command)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from django.db import connection

from motcua.bench.ceiling import running_ceiling
from motcua.bench.harness import running_server
from motcua.bench.load import LoadResult, json_post, load_run
from motcua.core.actors import SYSTEM
from motcua.identity import services
from motcua.registry.seed import population_load

PROVINCE = "2025:82"
PASSWORD = "Mat-khau-bench-2026"  # noqa: S105 - a throwaway account in the bench database
REDIRECT = "http://127.0.0.1/bench/callback"


def run(
    *,
    citizens: int,
    seed: int,
    duration_s: float,
    connections: int,
    flow_s: float,
    workers: int,
    threads: int,
    target_rps: int,
    database_url: str,
) -> dict[str, Any]:
    _log(f"loading {citizens:,} citizens ...")
    population_load(citizens, province_key=PROVINCE, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    people = _sample(2000)
    _, partner = services.partner_add(actor=SYSTEM, name="Bench bank", rate_per_second=100_000)
    _, party = services.rp_add(
        actor=SYSTEM,
        party=services.NewParty(
            name="Bench RP", redirect_uris=[REDIRECT], scopes=["openid", "profile"]
        ),
    )
    services.account_create(actor=SYSTEM, pin=people[0]["pin"], password=PASSWORD)

    with running_server(database_url, workers=workers, threads=threads) as base:
        token = _partner_token(base, partner)
        _log(f"verification API: {connections} clients for {duration_s:.0f} s ...")
        verify = load_run(
            base,
            [json_post("/api/identity/verify", p, token=token) for p in people],
            connections=connections,
            duration_s=duration_s,
        )
        _log(f"verification API: {target_rps} requests/s offered, latency ...")
        at_target = load_run(
            base,
            [json_post("/api/identity/verify", p, token=token) for p in people],
            connections=connections,
            duration_s=duration_s,
            rate=target_rps,
        )
        _log(f"OIDC code flows for {flow_s:.0f} s ...")
        flows = _flows_per_s(base, party, people[0]["pin"], flow_s)
    with running_ceiling(
        "motcua.bench.identity_ceiling:ceiling_handler",
        database_url,
        workers=workers,
        threads=threads,
    ) as base:
        _log(f"ceiling: {connections} clients for {duration_s:.0f} s ...")
        ceiling = load_run(
            base,
            [json_post("/verify", {**p, "token": token}) for p in people],
            connections=connections,
            duration_s=duration_s,
        )
    _check(verify, "verification API")
    _check(at_target, "verification API at the target rate")
    _check(ceiling, "ceiling")
    return {
        "citizens": citizens,
        "connections": connections,
        "server": f"gunicorn gthread {workers}x{threads}",
        "verify_rps": round(verify.rps),
        "verify_p50_ms": round(at_target.p50_ms, 2),
        "verify_p99_ms": round(at_target.p99_ms, 2),
        "latency_at_rps": round(at_target.rps),
        "saturated_p50_ms": round(verify.p50_ms, 2),
        "saturated_p99_ms": round(verify.p99_ms, 2),
        "verify_errors": verify.errors + at_target.errors,
        "ceiling_rps": round(ceiling.rps),
        "ceiling_p99_ms": round(ceiling.p99_ms, 2),
        "ratio": round(verify.rps / ceiling.rps, 3),
        "oidc_flows_per_s": round(flows, 1),
        "load_generator_cpu_share": round(verify.cpu_share, 2),
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check(result: LoadResult, what: str) -> None:
    if result.ok == 0 or result.errors > result.requests * 0.01:
        raise RuntimeError(
            f"{what}: {result.errors} errors of {result.requests}: {result.errors_by_status}"
        )


def _sample(n: int) -> list[dict[str, str]]:
    """Claims as a bank would send them: real people, day-precise birth dates."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pin, full_name, birth_date FROM registry_citizen TABLESAMPLE SYSTEM (5)"
            " WHERE birth_date_precision = 'day' AND death_date IS NULL"
            " AND birth_date < now() - interval '18 years' LIMIT %s",  # adults: they may hold an e-ID
            [n],
        )
        return [
            {
                "pin": pin,
                "full_name": name,
                "birth_date": born.isoformat(),
                "purpose": "Mở tài khoản",
            }
            for pin, name, born in cursor.fetchall()
        ]


def _partner_token(base: str, partner: services.Credentials) -> str:
    answer = httpx.post(
        f"{base}/o/token/",
        data={"grant_type": "client_credentials", "scope": "ekyc"},
        auth=(partner.client_id, partner.client_secret),
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _signed_in(base: str, pin: str) -> httpx.Client:
    browser = httpx.Client(base_url=base)
    browser.get("/id/dang-nhap/")
    answer = browser.post(
        "/id/dang-nhap/",
        data={
            "pin": pin,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
    )
    if answer.status_code != 302:
        raise RuntimeError("bench sign-in failed")
    return browser


def _flows_per_s(
    base: str, party: services.Credentials, pin: str, seconds: float, workers: int = 4
) -> float:
    """authorize → token → userinfo, repeated by a few signed-in browsers for `seconds`."""
    browsers = [_signed_in(base, pin) for _ in range(workers)]
    _flow(browsers[0], party, consent=True)
    deadline = time.monotonic() + seconds

    def repeat(browser: httpx.Client) -> int:
        done = 0
        while time.monotonic() < deadline:
            _flow(browser, party)
            done += 1
        return done

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(repeat, browsers))
    return total / (time.monotonic() - start)


def _flow(browser: httpx.Client, party: services.Credentials, *, consent: bool = False) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = {
        "response_type": "code",
        "client_id": party.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = browser.get("/o/authorize/?" + urlencode(query))
    if consent:
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', answer.text))
        answer = browser.post(
            "/o/authorize/",
            data={
                **fields,
                "allow": "Authorize",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
        )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = httpx.post(
        str(browser.base_url.join("/o/token/")),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(party.client_id, party.client_secret),
    ).json()
    userinfo = httpx.get(
        str(browser.base_url.join("/o/userinfo/")),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    userinfo.raise_for_status()
