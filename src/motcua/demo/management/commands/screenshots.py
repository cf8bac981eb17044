"""`motcua screenshots --out DIR`: a picture of every page of the citizen's, the officials' and
the data clerk's journeys (motcua.web.journeys), at each width, so anyone can look at every
page without clicking through.

It never touches your data: it makes a database of its own, seeds a small demo province there
(the demo's logins), serves it on a free port, walks the journeys in Chromium and drops the
database again."""

from __future__ import annotations

import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings

from motcua.catalog.selectors import AgencyKind
from motcua.demo.management.commands.demo import _production
from motcua.demo.province import DEMO_PASSWORD, DEMO_TOTP_SECRET, DemoInfo, demo_prepare
from motcua.demo.public_services import AGENCY_ROLES, LINKAGE_OFFICIAL
from motcua.web.journeys import (
    ROLES,
    WIDTHS,
    Cast,
    Login,
    Stop,
    mother_of_the_birth,
    page_file_name,
    walk,
)

DATABASE = "motcua_screenshots"


class Command(BaseCommand):
    help = "Save a full-page PNG of every page of the journeys at each width (a throwaway demo)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
        parser.add_argument(
            "--width",
            type=int,
            action="append",
            dest="widths",
            help=f"window width in CSS pixels, repeatable (default: {' and '.join(map(str, WIDTHS))})",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="pixels per CSS pixel (0.5 for pictures half the size, 2 for sharp ones)",
        )
        parser.add_argument(
            "--citizens", type=int, default=400, help="size of the throwaway demo province"
        )
        parser.add_argument(
            "--role",
            action="append",
            dest="roles",
            choices=ROLES,
            help="only these journeys (repeatable; default: all)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if _production():
            raise CommandError("motcua screenshots tạo tài khoản demo; không chạy với production.")
        try:
            import playwright  # noqa: F401
        except ImportError as error:
            raise CommandError("Playwright is missing: pip install -e '.[dev]'") from error
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        widths = tuple(options["widths"] or WIDTHS)
        roles = tuple(options["roles"] or ROLES)

        connection = connections["default"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = DATABASE
        kept_name = connection.settings_dict["NAME"]
        self.stderr.write(f"A demo province of {options['citizens']} citizens in {DATABASE} ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        server = LiveServerThread("localhost", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        url = f"http://localhost:{server.port}"
        try:
            public = {
                "PUBLIC_URL": url,
                "OAUTH2_PROVIDER": {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url + "/o"},
            }
            with override_settings(**public):
                cast = _cast(demo_prepare(citizens=options["citizens"], seed=2025))
                with tempfile.TemporaryDirectory(prefix="motcua-screenshots-") as scratch:
                    outcomes = walk(
                        base_url=url,
                        cast=cast,
                        visit=lambda page, stop, width: self._shoot(page, stop, width, out),
                        widths=widths,
                        roles=roles,
                        scale=options["scale"],
                        scratch=Path(scratch),
                    )
        finally:
            server.terminate()
            connections.close_all()
            connection.creation.destroy_test_db(kept_name, verbosity=0)
        for (name, width), outcome in outcomes.items():
            if outcome != "shown":
                self.stdout.write(f"{name}-{width}: {outcome}")

    def _shoot(self, page: Any, stop: Stop, width: int, out: Path) -> None:
        path = out / page_file_name(stop, width)
        page.screenshot(path=path, full_page=True)
        self.stdout.write(str(path))


def _cast(info: DemoInfo) -> Cast:
    """The demo's level-2 citizen, its one-stop officer and its data-cleaning official."""
    citizen = next(c for c in info.citizens if c.level == 2 and c.totp_secret)
    assert citizen.totp_secret is not None
    mother, relation = mother_of_the_birth(citizen.pin)
    one_stop = AGENCY_ROLES[0].username  # receiver, processor and clerk of the commune
    by_kind = {a.kind: a.username for a in reversed(AGENCY_ROLES)}  # each kind's first
    return Cast(
        citizen=Login(citizen.pin, DEMO_PASSWORD, citizen.totp_secret),
        official=Login(one_stop, DEMO_PASSWORD, DEMO_TOTP_SECRET),
        clerk=Login(LINKAGE_OFFICIAL, DEMO_PASSWORD, DEMO_TOTP_SECRET),
        mother_pin=mother,
        relation=relation,
        police=Login(by_kind[AgencyKind.COMMUNE_POLICE], DEMO_PASSWORD, DEMO_TOTP_SECRET),
        insurance=Login(by_kind[AgencyKind.SOCIAL_INSURANCE], DEMO_PASSWORD, DEMO_TOTP_SECRET),
    )
