"""Background jobs of linkage, on Procrastinate (PostgreSQL is the queue). The worker is
`motcua procrastinate worker`; `motcua demo` starts one beside the web server."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from motcua.linkage import services

QUEUE = "linkage"


# One more try a minute later (a worker restarted mid-run, the database briefly away): the
# engine resumes where it stopped. A dataset the engine rejects fails the same way again, so
# no more than that.
@app.task(queue=QUEUE, name="linkage.job_run", retry=RetryStrategy(max_attempts=1, wait=60))
def linkage_job_run(job_id: int) -> None:
    services.linkage_job_run(job_id=job_id)
