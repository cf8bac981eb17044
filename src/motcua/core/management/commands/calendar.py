"""`motcua calendar seed --from 2015 --to 2040` adds the missing holidays of those years;
`motcua calendar show --year 2026` lists a year's weekdays off and worked weekend days."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.core.calendar import SATURDAY, SEED_FIRST_YEAR, SEED_LAST_YEAR, holidays_seed
from motcua.core.errors import ValidationFailed
from motcua.core.models import Holiday


class Command(BaseCommand):
    help = gettext_noop("Lịch ngày làm việc")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        seed = actions.add_parser("seed", help="Add the days the `holidays` package knows")
        seed.add_argument("--from", dest="first", type=int, default=SEED_FIRST_YEAR)
        seed.add_argument("--to", dest="last", type=int, default=SEED_LAST_YEAR)
        show = actions.add_parser("show", help="A year's weekdays off and worked weekend days")
        show.add_argument("--year", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seed":
            try:
                added = holidays_seed(options["first"], options["last"])
            except ValidationFailed as error:
                fields = "; ".join(f"--{k}: {v}" for k, v in error.errors.items())
                raise CommandError(f"{error.message} — {fields}") from None
            self.stdout.write(json.dumps({"added": added}))
            return
        self.stdout.write(json.dumps(_year(options["year"]), ensure_ascii=False, indent=2))


def _year(year: int) -> dict[str, Any]:
    rows = list(Holiday.objects.filter(day__year=year).order_by("day"))
    if not rows:
        raise CommandError(
            _(
                "Chưa có lịch năm %(year)s: chạy `motcua calendar seed --from %(year)s --to %(year)s`"
            )
            % {"year": year}
        )
    return {
        "year": year,
        "days_off": [
            _row(row)
            for row in rows
            if row.kind != Holiday.Kind.WORKDAY and row.day.weekday() < SATURDAY
        ],
        "workdays": [
            _row(row)
            for row in rows
            if row.kind == Holiday.Kind.WORKDAY and row.day.weekday() >= SATURDAY
        ],
    }


def _row(row: Holiday) -> dict[str, str]:
    return {
        "day": row.day.isoformat(),
        "weekday": f"{row.day:%a}",
        "kind": row.kind,
        "name": row.name,
    }
