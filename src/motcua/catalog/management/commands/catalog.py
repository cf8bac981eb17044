"""`motcua catalog load [--procedures FILE] [--workflows FILE]`: procedures and workflows as
data. All or nothing; prints which procedures got a new version, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog.services import DATA_DIR, catalog_load
from motcua.core.actors import SYSTEM
from motcua.core.errors import ValidationFailed


def _read(path: Path, key: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(
            _("Không đọc được %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise CommandError(_("%(path)s: cần một danh sách '%(key)s'") % {"path": path, "key": key})
    items: list[dict[str, Any]] = data[key]
    return items


class Command(BaseCommand):
    help = gettext_noop("Danh mục thủ tục")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("load", help="Create or update procedures and workflows")
        load.add_argument("--procedures", type=Path, default=DATA_DIR / "procedures.json")
        load.add_argument("--workflows", type=Path, default=DATA_DIR / "workflows.json")

    def handle(self, *args: Any, **options: Any) -> None:
        procedures = _read(options["procedures"], "procedures")
        workflows = _read(options["workflows"], "workflows")
        try:
            report = catalog_load(actor=SYSTEM, procedures=procedures, workflows=workflows)
        except ValidationFailed as error:
            fields = "; ".join(f"{k}: {v}" for k, v in error.errors.items())
            raise CommandError(f"{error.message} — {fields}") from None
        except KeyError as error:
            raise CommandError(_("Thiếu trường %(error)s") % {"error": error}) from None
        self.stdout.write(
            json.dumps(
                {
                    "workflows": report.workflows,
                    "published": report.published,
                    "unchanged": len(report.unchanged),
                }
            )
        )
