"""`motcua link --dataset FILE --kind KIND [--out DIR]`: link a sector dataset to the registry.

The dataset is checked whole before any work (missing mapped columns, an unreadable file, bad
dates, sexes or ID numbers: a message per field and exit code 1). Run again with the same
--out after a crash, and the job resumes where it stopped.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.core.actors import Actor
from motcua.linkage.dataset import FIELDS, KINDS, DatasetError
from motcua.linkage.pipeline import (
    BACKENDS,
    OUTPUT_FORMATS,
    LinkSpec,
    Progress,
    dataset_check,
    link,
)
from motcua.linkage.trail import PURPOSE, run_record
from motcua.registry.selectors import VIEW_PERMISSION, linkage_extract


class Command(BaseCommand):
    help = gettext_noop("Liên kết dữ liệu chuyên ngành với CSDL dân cư")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", type=Path, required=True, help="CSV or Parquet file")
        parser.add_argument("--kind", required=True, choices=list(KINDS))
        parser.add_argument("--out", type=Path, help="default: var/linkage/<file name>")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=f"the dataset's column for a field ({', '.join(FIELDS)}); repeatable",
        )
        parser.add_argument("--labels", type=Path, help="CSV sector_id,pin,is_match")
        parser.add_argument("--format", default="parquet", choices=OUTPUT_FORMATS)
        parser.add_argument(
            "--backend",
            default="duckdb",
            choices=BACKENDS,
            help="where pairs are scored: spark for datasets beyond one machine",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dataset: Path = options["dataset"]
        out = options["out"] or settings.VAR_DIR / "linkage" / dataset.stem
        spec = LinkSpec(
            dataset=dataset,
            kind=options["kind"],
            out_dir=out,
            columns=_columns(options["column"]),
            labels=options["labels"],
            output_format=options["format"],
            backend=options["backend"],
        )
        try:
            info = dataset_check(spec)
        except DatasetError as exc:
            raise CommandError(
                _("Tệp không dùng được:")
                + "\n"
                + "\n".join(f"  {name}: {message}" for name, message in exc.errors.items())
            ) from None
        self.stderr.write(
            _("%(rows)s bản ghi; cột: %(mapping)s")
            % {"rows": f"{info.rows:,}", "mapping": info.mapping}
        )
        actor = Actor(
            kind="system", ref=f"cli:{getpass.getuser()}", permissions=frozenset({VIEW_PERMISSION})
        )
        registry_csv = out / "registry.csv"
        if not registry_csv.exists():  # a resumed run keeps the extract it started from
            partial = registry_csv.with_suffix(".partial")
            linkage_extract(actor=actor, path=str(partial), purpose=PURPOSE)
            partial.replace(registry_csv)
        result = link(spec, registry_csv=registry_csv, progress=self._progress())
        run_record(actor=actor, spec=spec, result=result, job=f"cli:{out.name}")
        self.stdout.write(
            _(
                "%(records)s bản ghi: %(linked)s liên kết, %(review)s cần đối soát, "
                "%(unlinked)s không liên kết (%(seconds)s giây)"
            )
            % {
                "records": f"{result.records:,}",
                "linked": f"{result.linked:,}",
                "review": f"{result.review:,}",
                "unlinked": f"{result.unlinked:,}",
                "seconds": result.wall_s,
            }
            + f"\n  {result.output}\n  {result.report}\n  {result.review_pairs}"
        )

    def _progress(self) -> Any:
        started = time.perf_counter()

        def show(progress: Progress) -> None:
            self.stderr.write(
                f"[{time.perf_counter() - started:7.1f} s] {progress.stage} "
                f"{progress.done:,}/{progress.total:,}"
            )

        return show


def _columns(pairs: list[str]) -> dict[str, str]:
    columns = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not column:
            raise CommandError(f"--column {pair!r}: write FIELD=COLUMN, e.g. full_name=HO_TEN")
        columns[name.strip()] = column.strip()
    return columns
