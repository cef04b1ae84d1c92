"""Deliveries as background jobs: each attempt of a delivery is one `webhook.deliver` job.

A pending attempt is a row of `webhook_deliveries` with the time it is due; `schedule` writes the
job that will make it, due then, on the same transaction as that row (and as the change whose
event caused it), so the attempt is run if and only if the row commits. The worker's handler
calls `WebhookDeliverer.attempt` (webhooks/delivery.py), which settles the job on the
transaction that records the attempt.

The webhook schedule drives every retry of a failed delivery: a failed attempt records the next
one as a new row and a new job (`models.retry_delay`). The job engine's own retry only runs the
same attempt again when it could not be made or recorded at all (the database was away, the
attempt outran its lease), as it would after a worker died.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pressroom.db.connection import Connection
from pressroom.jobs.models import RetryPolicy
from pressroom.jobs.repository import JobRepository
from pressroom.kit.clock import utcnow

DELIVERY_JOB = "webhook.deliver"
# When an attempt could not even be made (see above): soon, then every few minutes, for as long
# as the delivery's own schedule lasts.
DELIVERY_JOB_RETRIES = RetryPolicy(
    first=timedelta(seconds=5), longest=timedelta(minutes=5), keep_trying_for=timedelta(days=1)
)


class DeliveryJobs:
    async def schedule(self, conn: Connection, delivery_id: int, run_at: datetime) -> None:
        """Run attempt `delivery_id` at `run_at` or soon after, if and when `conn` commits."""
        await JobRepository(conn).enqueue(
            DELIVERY_JOB, {"delivery_id": delivery_id}, utcnow(), DELIVERY_JOB_RETRIES, run_at
        )
