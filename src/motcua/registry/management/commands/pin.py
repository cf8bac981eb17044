from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from motcua.registry.pin import pin_explain


class Command(BaseCommand):
    help = "Số định danh cá nhân: `pin check PIN...` explains each PIN or says why it is invalid."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="explain PINs (province, sex, year of birth)")
        check.add_argument("pins", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        results = [pin_explain(pin) for pin in options["pins"]]
        for _ok, line in results:
            self.stdout.write(line)
        invalid = sum(not ok for ok, _line in results)
        if invalid:
            raise CommandError(_("%(invalid)s số định danh không hợp lệ") % {"invalid": invalid})
