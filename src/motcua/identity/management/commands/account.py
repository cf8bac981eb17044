"""`motcua account create --pin PIN --password-stdin [--level 2] [--contact C]` creates an e-ID
account for an existing citizen; for level 2 it prints the TOTP secret as JSON."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from motcua.core.actors import SYSTEM
from motcua.identity.management.commands._common import as_json, or_command_error
from motcua.identity.services import account_create


class Command(BaseCommand):
    help = "Tài khoản định danh / e-ID accounts"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create an account for an existing citizen")
        create.add_argument("--pin", required=True)
        create.add_argument(
            "--password-stdin",
            action="store_true",
            required=True,
            help="read the password from standard input",
        )
        create.add_argument("--level", type=int, choices=(1, 2), default=1)
        create.add_argument("--contact", default="", help="phone number or e-mail")

    def handle(self, *args: Any, **options: Any) -> None:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("Cần mật khẩu trên stdin / give the password on standard input")
        account, secret = or_command_error(
            lambda: account_create(
                actor=SYSTEM,
                pin=options["pin"],
                password=password,
                level=options["level"],
                contact=options["contact"],
            )
        )
        result: dict[str, Any] = {"pin": account.pin, "level": account.level}
        if secret:
            result["totp_secret"] = secret
        self.stdout.write(as_json(result))
