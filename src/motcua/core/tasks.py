"""Background jobs of the shared kernel, on Procrastinate (the worker is
`motcua procrastinate worker`; `motcua demo` starts one beside the web server)."""

from __future__ import annotations

from django.conf import settings
from procrastinate.contrib.django import app

from motcua.core.audit import audit_checkpoint_write
from motcua.core.held import held_sweep

QUEUE = "audit"


# Every few minutes (settings.AUDIT_CHECKPOINT_CRON): a signed checkpoint of the audit chain's
# head outside the database. A broken chain fails the job, and writes no checkpoint.
@app.periodic(cron=settings.AUDIT_CHECKPOINT_CRON, periodic_id="audit_checkpoint")
@app.task(queue=QUEUE, name="core.audit_checkpoint")
def audit_checkpoint(timestamp: int) -> None:
    audit_checkpoint_write()


# Every hour: files held for a re-shown form whose session never filed them.
@app.periodic(cron="17 * * * *", periodic_id="held_sweep")
@app.task(queue=QUEUE, name="core.held_sweep")
def held_uploads_sweep(timestamp: int) -> None:
    held_sweep()
