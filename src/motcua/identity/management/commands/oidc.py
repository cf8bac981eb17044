"""`motcua oidc rotate-key`: retire the signing key and make a new one (restart to use it)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from motcua.identity.keys import oidc_key_rotate


class Command(BaseCommand):
    help = "Nhà cung cấp OpenID Connect / the OpenID Connect provider"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("rotate-key", help="Retire the id_token signing key and make a new one")

    def handle(self, *args: Any, **options: Any) -> None:
        retired = oidc_key_rotate(settings.VAR_DIR / "keys" / "oidc")
        self.stdout.write(
            f"Khoá cũ / retired key: {retired.name}. Khởi động lại máy chủ / restart the server."
        )
