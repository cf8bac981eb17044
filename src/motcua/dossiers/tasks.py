"""Background jobs of dossiers, on Procrastinate (the worker is `motcua procrastinate worker`;
`motcua demo` starts one beside the web server)."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from motcua.dossiers import packages

PACKAGES_QUEUE = "packages"


# One run per package at a time (the queueing lock); a run that fails (the database restarting)
# is tried again, and the sweep below catches whatever a lost job leaves behind.
@app.task(
    queue=PACKAGES_QUEUE,
    name="dossiers.package_advance",
    retry=RetryStrategy(max_attempts=5, exponential_wait=2),
)
def package_advance_task(package_id: int) -> None:
    packages.package_advance(package_id)


# Every minute: packages a crash left behind, and steps past the group's supplement deadline.
@app.periodic(cron="* * * * *", periodic_id="packages_sweep")
@app.task(queue=PACKAGES_QUEUE, name="dossiers.packages_sweep")
def packages_sweep_task(timestamp: int) -> None:
    packages.packages_sweep()
