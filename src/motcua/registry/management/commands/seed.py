from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from motcua.registry.seed import DEFAULT_PROVINCE, LoadStats, SeedError, population_load


class Command(BaseCommand):
    help = "Tạo dân cư tổng hợp: `seed --citizens N [--province KEY_OR_PIN_CODE] [--seed S]`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--citizens", type=int, required=True, help="how many citizens")
        parser.add_argument(
            "--province",
            default=DEFAULT_PROVINCE,
            help=f"2025 province key or 3-digit PIN province code (default {DEFAULT_PROVINCE})",
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same people")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["citizens"]
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        task = bar.add_task(_("Tạo dân cư"), total=total)

        def show(done: int) -> None:
            bar.start()  # on the first call, once the arguments have been accepted
            bar.update(task, completed=done)

        try:
            stats = population_load(
                total, province_key=options["province"], seed=options["seed"], progress=show
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar.live.is_started:
                bar.stop()
        self.stdout.write(_summary(stats))


def _summary(stats: LoadStats) -> str:
    return "\n".join(
        [
            f"{_('Công dân'):<27}{stats.citizens:>10,}",
            f"{_('Hộ gia đình'):<27}{stats.households:>10,}",
            f"{_('Đã mất'):<27}{stats.deceased:>10,}",
            f"{_('Thẻ căn cước'):<27}{stats.cards:>10,}",
            f"{_('Thẻ hết hạn trong 90 ngày'):<27}{stats.cards_due_soon:>10,}",
        ]
    )
