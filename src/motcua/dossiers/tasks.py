"""Background jobs of dossiers, on Procrastinate (the worker is `motcua procrastinate worker`;
`motcua demo` starts one beside the web server)."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from motcua.dossiers import services

PACKAGES_QUEUE = "packages"


# One run per package at a time (the queueing lock); a run that fails (the database restarting)
# is tried again, and the sweep below catches whatever a lost job leaves behind.
@app.task(
    queue=PACKAGES_QUEUE,
    name="dossiers.package_advance",
    retry=RetryStrategy(max_attempts=5, exponential_wait=2),
)
def package_advance_task(package_id: int) -> None:
    services.package_advance(package_id)


# Every minute: packages a crash left behind, and steps past the group's supplement deadline.
@app.periodic(cron="* * * * *", periodic_id="packages_sweep")
@app.task(queue=PACKAGES_QUEUE, name="dossiers.packages_sweep")
def packages_sweep_task(timestamp: int) -> None:
    services.packages_sweep()


# --- proactive services (offers.py) --------------------------------------------------------------

OFFERS_QUEUE = "offers"


# Every hour: new life events and e-ID level raises offered, the cards reaching a renewal age
# (looked at once a day), offers completed with their dossier or package, expired ones closed.
# One scan at a time (the lock); each is safe to repeat, and a crash loses nothing.
@app.periodic(cron="41 * * * *", periodic_id="offers_scan")
@app.task(queue=OFFERS_QUEUE, name="dossiers.offers_scan", lock="dossiers.offers_scan")
def offers_scan_task(timestamp: int) -> int:
    return services.offers_scan()
