"""What a linkage run leaves behind in the database, whoever started it (the `motcua link`
command or a back-office job): one audit row for the run, and an access-log row for every
citizen whose PIN the run attached to a sector record (linked, or proposed for review), so that
each person sees that the sector's records were matched to them."""

from __future__ import annotations

from pathlib import Path

import duckdb
from django.db import transaction
from django.utils.translation import gettext_noop

from motcua.core.access import access_log_record
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.linkage.dataset import KINDS
from motcua.linkage.pipeline import LinkResult, LinkSpec

PURPOSE = gettext_noop("làm sạch dữ liệu chuyên ngành")


def run_record(*, actor: Actor, spec: LinkSpec, result: LinkResult, job: str) -> None:
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="linkage.run",
            object_type="linkage_job",
            object_id=job,
            reason=f"{KINDS[spec.kind].label}: {spec.dataset.name}",
            after={
                "records": result.records,
                "linked": result.linked,
                "review": result.review,
                "unlinked": result.unlinked,
                "by_method": result.by_method,
                "out_dir": str(spec.out_dir),
            },
        )
        citizens_told(actor=actor, kind=spec.kind, out_dir=spec.out_dir)


def citizens_told(*, actor: Actor, kind: str, out_dir: Path) -> int:
    """Access-log rows for the citizens the run matched; inside the caller's transaction."""
    pins = [
        row[0]
        for row in duckdb.execute(
            "SELECT DISTINCT pin FROM read_parquet(?) WHERE class IN ('linked', 'review')",
            [str(out_dir / "results.parquet")],
        ).fetchall()
    ]
    return access_log_record(
        actor=actor,
        subject_pins=pins,
        data=gettext_noop("liên kết hồ sơ: %(label)s") % {"label": KINDS[kind].label},
        purpose=PURPOSE,
    )
