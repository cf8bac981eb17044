"""`motcua rp add --name N --redirect-uri URI [--scopes ...] [--pin-claim] [--min-level 2]`
registers a relying party and prints its client_id and client_secret as JSON."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from motcua.core.actors import SYSTEM
from motcua.identity.management.commands._common import as_json, or_command_error
from motcua.identity.services import PARTY_SCOPES, NewParty, rp_add


class Command(BaseCommand):
    help = "Bên sử dụng định danh / OpenID Connect relying parties"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Register a relying party")
        add.add_argument("--name", required=True)
        add.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        add.add_argument(
            "--scopes",
            nargs="+",
            default=["openid", "profile"],
            choices=PARTY_SCOPES,
            help="pin and dossiers only with --pin-claim",
        )
        add.add_argument(
            "--pin-claim",
            action="store_true",
            help="trusted to receive the PIN (and the pin scope)",
        )
        add.add_argument("--min-level", type=int, choices=(1, 2), default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        party = NewParty(
            name=options["name"],
            redirect_uris=options["redirect_uris"],
            scopes=options["scopes"],
            pin_claim=options["pin_claim"],
            min_level=options["min_level"],
        )
        _, credentials = or_command_error(lambda: rp_add(actor=SYSTEM, party=party))
        self.stdout.write(
            as_json(
                {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
            )
        )
