"""`motcua partner add --name N [--rate 50]`: a partner of the identity-verification API; prints
its client credentials as JSON."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from motcua.core.actors import SYSTEM
from motcua.identity.management.commands._common import as_json, or_command_error
from motcua.identity.services import partner_add


class Command(BaseCommand):
    help = "Đối tác xác thực định danh / eKYC partners"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Register a partner")
        add.add_argument("--name", required=True)
        add.add_argument("--rate", type=int, default=50, help="verifications per second")

    def handle(self, *args: Any, **options: Any) -> None:
        _, credentials = or_command_error(
            lambda: partner_add(actor=SYSTEM, name=options["name"], rate_per_second=options["rate"])
        )
        self.stdout.write(
            as_json(
                {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
            )
        )
