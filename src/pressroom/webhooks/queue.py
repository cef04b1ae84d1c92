"""The seam between deliveries and whatever runs them.

A delivery attempt is a row of `webhook_deliveries` with the time it is due. `DeliveryQueue`
is told of each such row on the transaction that writes it, so whatever runs attempts learns of
it exactly when it commits. `WebhookDeliverer.attempt(uow, delivery_id)` is the work to run then.

PLACEHOLDER until background jobs land (docs/webhooks.md, "Running deliveries"): the rows
themselves are the queue (`PolledDeliveries` records nothing more) and `DeliveryPoller` runs
what is due, in-process. With jobs, `schedule` enqueues a job "webhook.deliver" due at
`run_at` on `conn`, and the job's handler calls `WebhookDeliverer.attempt`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.engine import Database
from pressroom.db.units import UnitOfWork, unit_of_work
from pressroom.kit.clock import utcnow
from pressroom.kit.observability import get_logger
from pressroom.webhooks.repository import WebhookRepository

log = get_logger("pressroom.webhooks")
POLL_BATCH = 50


class DeliveryQueue(Protocol):
    async def schedule(self, conn: AsyncConnection, delivery_id: int, run_at: datetime) -> None:
        """Run attempt `delivery_id` at `run_at` or soon after, if and when `conn` commits."""


class PolledDeliveries:
    """PLACEHOLDER (see the module's docstring): the row's due time is the schedule."""

    async def schedule(self, conn: AsyncConnection, delivery_id: int, run_at: datetime) -> None:
        return None


class DeliveryPoller:
    """PLACEHOLDER for the job worker: runs due attempts, oldest due first. Safe with several
    pollers (processes, instances): an attempt is claimed before it is sent (its due time moves
    forward under a hold), so two never send the same attempt at once, and one whose sender died
    comes due again when the hold runs out."""

    def __init__(
        self,
        db: Database,
        attempt: Callable[[UnitOfWork, int], Awaitable[object]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.attempt = attempt
        self.clock = clock

    async def run_due(self) -> int:
        """Attempt what is due now; how many attempts were looked at."""
        async with self.db.read() as conn:
            due = await WebhookRepository(conn).due_ids(self.clock(), POLL_BATCH)
        for delivery_id in due:
            # A unit per attempt, as a job would have: one attempt's trouble stays its own.
            async with unit_of_work(self.db) as uow:
                await self.attempt(uow, delivery_id)
        return len(due)

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                looked_at = await self.run_due()
            except Exception:
                # A database outage must not end deliveries for the life of the process.
                log.exception("webhook_poll_failed")
                looked_at = 0
            if looked_at < POLL_BATCH:
                await asyncio.sleep(idle_seconds)
