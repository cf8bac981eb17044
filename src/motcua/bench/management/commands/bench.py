"""`motcua bench <name>`: one JSON line on stdout, progress on stderr. Each run uses a database of
its own, created and dropped here, never the demo data."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from motcua.bench import dossiers, fuzz, identity, linkage, linked, registry
from motcua.bench.harness import own_database


class Command(BaseCommand):
    help = (
        "Benchmarks: `bench registry|identity|dossiers|linkage|linked|fuzz ...`. "
        "Prints one JSON line."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="name", required=True)
        reg = sub.add_parser("registry", help="load rate vs raw COPY, PIN lookups, fuzzy search")
        reg.add_argument("--citizens", type=int, default=1_000_000)
        reg.add_argument("--seed", type=int, default=1)
        reg.add_argument("--lookups", type=int, default=2000)
        reg.add_argument("--searches", type=int, default=500)
        reg.add_argument(
            "--inner", action="store_true", help="(internal) run inside the prepared database"
        )
        ident = sub.add_parser(
            "identity", help="verification API vs a bare WSGI ceiling, OIDC code flows per second"
        )
        ident.add_argument("--citizens", type=int, default=1_000_000)
        ident.add_argument("--seed", type=int, default=1)
        ident.add_argument("--duration", type=float, default=30, help="seconds of load per run")
        ident.add_argument("--connections", type=int, default=50)
        ident.add_argument("--flow-seconds", type=float, default=10)
        ident.add_argument("--workers", type=int, default=4, help="server processes (both servers)")
        ident.add_argument("--threads", type=int, default=4, help="threads per server process")
        ident.add_argument(
            "--target-rps", type=int, default=1000, help="offered load for the latency figures"
        )
        ident.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
        dos = sub.add_parser(
            "dossiers",
            help="online submissions per second, the back office's queue page vs its bare SQL",
        )
        dos.add_argument("--dossiers", type=int, default=1_000_000)
        dos.add_argument(
            "--open", type=int, default=50_000, help="open dossiers at the measured commune"
        )
        dos.add_argument("--citizens", type=int, default=200_000)
        dos.add_argument("--seed", type=int, default=1)
        dos.add_argument("--duration", type=float, default=30, help="seconds of submissions")
        dos.add_argument("--connections", type=int, default=16, help="concurrent submitters")
        dos.add_argument(
            "--submitters", type=int, default=200, help="citizens (portal sessions) submitting"
        )
        dos.add_argument("--queue-requests", type=int, default=240)
        dos.add_argument("--workers", type=int, default=4, help="server processes")
        dos.add_argument("--threads", type=int, default=4, help="threads per server process")
        dos.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
        link = sub.add_parser(
            "linkage",
            help="record linkage against known truth, beside a plain Splink model",
        )
        link.add_argument("--registry", type=int, default=1_000_000, help="citizens")
        link.add_argument("--records", type=int, default=1_000_000, help="sector records")
        link.add_argument("--seed", type=int, default=1)
        link.add_argument(
            "--plain",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="also run the plain Splink model (--no-plain beyond a few million: its "
            "full-name blocking grows with the square of the data)",
        )
        link.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
        lk = sub.add_parser(
            "linked",
            help="birth packages through three agencies with automatic officials, beside the same "
            "three procedures filed as separate dossiers: time, throughput, work, citizen's effort",
        )
        lk.add_argument("--packages", type=int, default=10_000, help="births each way")
        lk.add_argument("--seed", type=int, default=1)
        lk.add_argument("--workers", type=int, default=2, help="processes driving births at once")
        lk.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
        fz = sub.add_parser(
            "fuzz",
            help="schemathesis over the whole OpenAPI document: server errors, undocumented "
            "statuses, bodies unlike their schema",
        )
        fz.add_argument(
            "--examples", type=int, default=200, help="generated cases per operation and mode"
        )
        fz.add_argument("--citizens", type=int, default=1000, help="population to search in")
        fz.add_argument("--seed", type=int, default=1)
        fz.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["name"] == "linkage":
            if options["records"] < 1 or options["registry"] < 100:
                raise CommandError("--registry must be at least 100 and --records positive")
        elif options["name"] == "linked":
            if options["packages"] < 1 or options["workers"] < 1:
                raise CommandError("--packages and --workers must be positive")
        elif options["citizens"] < 100:
            raise CommandError("--citizens must be at least 100")
        if options["name"] == "dossiers" and not 0 < options["open"] <= options["dossiers"]:
            raise CommandError("--open must be between 1 and --dossiers")
        if not options["inner"]:
            self._in_own_database(options)
            return
        if options["name"] == "linked":
            result = linked.run(
                packages=options["packages"], seed=options["seed"], workers=options["workers"]
            )
        elif options["name"] == "fuzz":
            if options["examples"] < 1:
                raise CommandError("--examples must be positive")
            result = fuzz.run(
                examples=options["examples"], citizens=options["citizens"], seed=options["seed"]
            )
        elif options["name"] == "linkage":
            result = linkage.run(
                registry=options["registry"],
                records=options["records"],
                seed=options["seed"],
                plain=options["plain"],
                database_url=os.environ["DATABASE_URL"],
            )
        elif options["name"] == "dossiers":
            result = dossiers.run(
                dossiers=options["dossiers"],
                open_in_agency=options["open"],
                citizens=options["citizens"],
                seed=options["seed"],
                duration_s=options["duration"],
                connections=options["connections"],
                submitters=options["submitters"],
                queue_requests=options["queue_requests"],
                workers=options["workers"],
                threads=options["threads"],
                database_url=os.environ["DATABASE_URL"],
            )
        elif options["name"] == "identity":
            result = identity.run(
                citizens=options["citizens"],
                seed=options["seed"],
                duration_s=options["duration"],
                connections=options["connections"],
                flow_s=options["flow_seconds"],
                workers=options["workers"],
                threads=options["threads"],
                target_rps=options["target_rps"],
                database_url=os.environ["DATABASE_URL"],
            )
        else:
            result = registry.run(
                citizens=options["citizens"],
                seed=options["seed"],
                lookups=options["lookups"],
                searches=options["searches"],
                database_url=os.environ["DATABASE_URL"],
            )
        self.stdout.write(json.dumps(result))

    def _in_own_database(self, options: dict[str, Any]) -> None:
        with own_database(f"motcua_bench_{options['name']}") as url:
            command = [sys.executable, "-m", "motcua.cli", *sys.argv[1:], "--inner"]
            result = subprocess.run(command, env={**os.environ, "DATABASE_URL": url}, check=False)
        if result.returncode:
            raise CommandError(f"benchmark failed (exit {result.returncode})")
