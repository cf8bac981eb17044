"""Background jobs of the e-ID, on Procrastinate: housekeeping of what only matters for a while."""

from __future__ import annotations

from procrastinate.contrib.django import app

from motcua.identity.limits import limits_prune
from motcua.identity.oidc import token_contexts_prune

QUEUE = "identity"


# Hourly: limit windows too old to count, and the authentication context of token families
# that have ended, so that neither table grows with traffic.
@app.periodic(cron="17 * * * *", periodic_id="identity_housekeeping")
@app.task(queue=QUEUE, name="identity.housekeeping")
def housekeeping(timestamp: int) -> None:
    limits_prune()
    token_contexts_prune()
