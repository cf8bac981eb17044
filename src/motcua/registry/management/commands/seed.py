from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from motcua.registry.seed import DEFAULT_PROVINCE, LoadStats, SeedError, population_load


class Command(BaseCommand):
    help = (
        "Tạo dân cư tổng hợp / load a synthetic population: "
        "`seed --citizens N [--province KEY_OR_PIN_CODE] [--seed S]`."
    )

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
        task = bar.add_task("Tạo dân cư / seeding", total=total)

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
            f"Công dân / citizens:                        {stats.citizens:>10,}",
            f"Hộ gia đình / households:                   {stats.households:>10,}",
            f"Đã mất / deceased:                          {stats.deceased:>10,}",
            f"Thẻ căn cước / ID cards:                    {stats.cards:>10,}",
            f"Thẻ hết hạn trong 90 ngày / due in 90 days: {stats.cards_due_soon:>10,}",
        ]
    )
