"""`motcua linkage make-benchmark --registry N --records M --seed S [--out DIR] [--kind K]
[--format parquet|csv]`: a synthetic sector dataset with known truth, for scoring linkage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_noop
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from motcua.linkage.benchmark import FORMATS, BenchmarkError, BenchmarkFiles, benchmark_make
from motcua.linkage.dataset import KINDS
from motcua.registry.services import SeedError


class Command(BaseCommand):
    help = gettext_noop("Liên kết dữ liệu chuyên ngành")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        make = actions.add_parser(
            "make-benchmark",
            help="A sector dataset drawn from the registry, with corruption and the truth",
        )
        make.add_argument("--registry", type=int, required=True, help="citizens to draw from")
        make.add_argument("--records", type=int, required=True, help="records to write")
        make.add_argument("--seed", type=int, required=True, help="same seed, same files")
        make.add_argument("--out", type=Path, help="default: var/linkage/benchmark-<seed>")
        make.add_argument("--kind", default="gplx", choices=list(KINDS))
        make.add_argument("--format", default="parquet", choices=FORMATS)

    def handle(self, *args: Any, **options: Any) -> None:
        actions = {"make-benchmark": self._make_benchmark}
        actions[options["action"]](options)

    def _make_benchmark(self, options: dict[str, Any]) -> None:
        out_dir = options["out"] or settings.VAR_DIR / "linkage" / f"benchmark-{options['seed']}"
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )

        def show(step: str, done: int, total: int) -> None:
            bar.start()  # on the first call, once the arguments have been accepted
            task = next((t.id for t in bar.tasks if t.description == step), None)
            if task is None:
                task = bar.add_task(step, total=total)
            bar.update(task, completed=done)

        try:
            files = benchmark_make(
                registry=options["registry"],
                records=options["records"],
                seed=options["seed"],
                out_dir=out_dir,
                kind=options["kind"],
                file_format=options["format"],
                progress=show,
            )
        except (BenchmarkError, SeedError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar.live.is_started:
                bar.stop()
        self.stdout.write(_summary(files))


def _summary(files: BenchmarkFiles) -> str:
    counts = ", ".join(f"{name} {n:,}" for name, n in files.counts.items())
    return (
        f"{files.dataset} ({files.records:,} records from {files.registry:,} citizens), "
        f"truth {files.truth}: {counts}"
    )
