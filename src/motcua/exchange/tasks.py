"""Background jobs of the exchange, on Procrastinate: the status webhooks' outbox. A dossier's
step never waits for a partner: it commits, and this job sends what changed afterwards."""

from __future__ import annotations

from procrastinate.contrib.django import app

from motcua.exchange import services

QUEUE = "exchange"


# Every minute: new dossier events become deliveries, then every due delivery gets one attempt
# (failures are retried with backoff by the next runs, not by the queue).
@app.periodic(cron="* * * * *", periodic_id="exchange_webhooks")
@app.task(queue=QUEUE, name="exchange.webhooks", queueing_lock="exchange.webhooks")
def webhooks_run(timestamp: int) -> None:
    services.deliveries_scan()
    while services.deliveries_send(limit=50):
        pass
