"""`motcua geo lookup <text-or-key>` prints matching units; `motcua geo load` reloads them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.geo import selectors
from motcua.geo.loader import units_load
from motcua.geo.models import AdministrativeUnit, UnitMapping
from motcua.geo.selectors import Level, Scheme, UnitInfo


class Command(BaseCommand):
    help = gettext_noop("Đơn vị hành chính")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        lookup = actions.add_parser("lookup", help="Search by name (accents optional) or key")
        lookup.add_argument("text", help='a name ("ho chi minh") or a key ("pre2025:74")')
        lookup.add_argument("--level", choices=Level.values)
        lookup.add_argument("--scheme", choices=Scheme.values)
        lookup.add_argument("--limit", type=int, default=10)
        actions.add_parser("load", help="Insert or update the units from the installed packages")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            counts = units_load(AdministrativeUnit, UnitMapping)
            self.stdout.write(f"{counts.units} units, {counts.mappings} mapping rows loaded")
            return
        units = _find(options["text"], options["level"], options["scheme"], options["limit"])
        if not units:
            raise CommandError(_("Không tìm thấy: %(text)s") % {"text": options["text"]})
        for unit in units:
            self.stdout.write(_line(unit))
            if unit.scheme == Scheme.PRE2025:
                for successor in selectors.unit_current(unit.key):
                    self.stdout.write(f"    → {_line(successor)}")


def _find(text: str, level: str | None, scheme: str | None, limit: int) -> list[UnitInfo]:
    unit = selectors.unit_get(text.strip()) if ":" in text else None
    if unit:
        return [unit]
    return selectors.units_search(text, level=level, scheme=scheme, limit=limit)


def _line(unit: UnitInfo) -> str:
    validity = f"từ {unit.valid_from}" if unit.valid_from else f"đến {unit.valid_to}"
    return f"{unit.key:<16} {unit.full_name} ({unit.kind}, {validity})"
