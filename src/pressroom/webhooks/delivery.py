"""One delivery attempt, as the background worker's `webhook.deliver` job runs it: read the
pending attempt, check the target again, POST the signed event, record what happened and
schedule what comes next (docs/webhooks.md).

The job's lease is the claim: only the worker holding it makes the attempt, and the attempt is
recorded on the same transaction that settles the job, fenced by the job's attempt number. No
database connection is held while the receiver is being waited for: the attempt is read in one
short transaction and recorded in another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

import httpx

from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.events.payloads import webhook_disabled
from pressroom.events.recorder import EventRecorder
from pressroom.jobs.models import LeaseLost, SettleJob
from pressroom.kit.clock import utcnow
from pressroom.kit.observability import Metrics, get_logger
from pressroom.kit.outbound_http import (
    TargetGuard,
    TargetRefused,
    outbound_client,
    send_pinned,
)
from pressroom.webhooks.models import (
    FAILING_FOR_DISABLE,
    ClaimedDelivery,
    DeliveryStatus,
    DisabledReason,
    retry_delay,
)
from pressroom.webhooks.queue import DeliveryJobs
from pressroom.webhooks.repository import WebhookRepository
from pressroom.webhooks.signing import webhook_headers

log = get_logger("pressroom.webhooks")
TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
GONE = 410


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"  # failed; another attempt is scheduled
    FAILED = "failed"  # failed; no attempt follows
    WAITING = "waiting"  # an older event to the same endpoint goes first
    NOTHING_TO_DO = "nothing_to_do"  # not pending: already made, or its endpoint deleted


class WebhookDeliverer:
    def __init__(
        self,
        events: EventRecorder,
        queue: DeliveryJobs,
        guard: TargetGuard,
        metrics: Metrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.events = events
        self.queue = queue
        self.guard = guard
        self.metrics = metrics
        # Decides what is due and when retries fall; tests move it. The `webhook-timestamp`
        # header is always the real time: receivers refuse messages more than minutes old.
        self.clock = clock
        # One client for every attempt: building one (its TLS context) cost more CPU than the
        # rest of an attempt. It keeps no connection between attempts (`outbound_client`).
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = outbound_client(TIMEOUT_SECONDS)
        return self._client

    async def attempt(self, uow: UnitOfWork, delivery_id: int, settle_job: SettleJob) -> Outcome:
        """Make attempt `delivery_id`, as the job that runs it: `settle_job` ends that job on
        the transaction that records the attempt, so both commit or neither does (LeaseLost
        when the job was taken over meanwhile: then its new holder records the attempt)."""
        claimed = await self._claim(uow, delivery_id, settle_job)
        if isinstance(claimed, Outcome):
            return claimed
        started = time.monotonic()
        # No connection is held while the receiver takes its time to answer.
        async with uow.released():
            status, error = await self._send(claimed)
        seconds = time.monotonic() - started
        outcome, disabled = await self._settle(uow, claimed, status, error, seconds, settle_job)
        self.metrics.webhook_attempt(outcome.value, seconds)
        if disabled is not None:
            self.metrics.webhook_disabled(disabled)
            log.warning("webhook_disabled", endpoint_id=claimed.endpoint_id, reason=disabled)
        return outcome

    async def _claim(
        self, uow: UnitOfWork, delivery_id: int, settle_job: SettleJob
    ) -> ClaimedDelivery | Outcome:
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            claimed = await repo.pending_attempt(delivery_id)
            if claimed is not None:
                # Deciding to wait, and waking whoever waits, happen one at a time per endpoint.
                await repo.lock_endpoint(claimed.endpoint_id)
            if claimed is None:
                outcome = Outcome.NOTHING_TO_DO
            elif not claimed.enabled:
                await repo.settle(
                    claimed,
                    status=DeliveryStatus.FAILED,
                    response_status=None,
                    duration_ms=None,
                    error="not sent: the webhook is disabled",
                    next_attempt_at=None,
                )
                await self._wake_next(conn, repo, claimed)
                outcome = Outcome.FAILED
            elif claimed.attempt == 1 and await repo.earlier_first_attempt_pending(
                claimed.endpoint_id, claimed.event_id
            ):
                # Parked, without a job: the older event's first attempt schedules this one
                # when it is settled (`_wake_next`), so events go out in the order they occurred.
                await repo.park(claimed)
                outcome = Outcome.WAITING
            else:
                return claimed
            # Nothing to send: this job is done, on the transaction that recorded why.
            if not await settle_job(conn):
                raise LeaseLost
        return outcome

    async def _wake_next(
        self, conn: Connection, repo: WebhookRepository, settled: ClaimedDelivery
    ) -> None:
        """A first attempt settled: the next event parked behind it is due now."""
        if settled.attempt != 1:
            return
        parked = await repo.next_parked(settled.endpoint_id, settled.event_id)
        if parked is not None:
            now = self.clock()
            await repo.unpark(parked, now)
            await self.queue.schedule(conn, parked, now)

    async def _send(self, claimed: ClaimedDelivery) -> tuple[int | None, str | None]:
        """The receiver's status, or None and what went wrong."""
        try:
            target = await self.guard.check(claimed.url)
        except TargetRefused as refused:
            return None, f"not sent: the URL {refused}"
        headers = webhook_headers(
            claimed.secrets.in_force(self.clock()),
            str(claimed.event_id),
            int(time.time()),
            claimed.body,
        )
        try:
            reply = await send_pinned(
                self._http(),
                target,
                content=claimed.body,
                headers=headers,
                timeout_seconds=TIMEOUT_SECONDS,
                max_body_bytes=MAX_RESPONSE_BYTES,
            )
        except TimeoutError:
            return None, f"no answer within {TIMEOUT_SECONDS:g} s"
        except httpx.HTTPError as failure:
            return None, f"{type(failure).__name__}: {failure}" if str(failure) else (
                type(failure).__name__
            )
        except OSError as failure:
            return None, f"{type(failure).__name__}: {failure.strerror or failure}"
        if 200 <= reply.status < 300:
            return reply.status, None
        return reply.status, f"the receiver answered {reply.status}"

    async def _settle(
        self,
        uow: UnitOfWork,
        claimed: ClaimedDelivery,
        status: int | None,
        error: str | None,
        seconds: float,
        settle_job: SettleJob,
    ) -> tuple[Outcome, str | None]:
        now = self.clock()
        duration_ms = round(seconds * 1000)
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            if not await settle_job(conn):
                raise LeaseLost
            await repo.lock_endpoint(claimed.endpoint_id)
            await self._wake_next(conn, repo, claimed)
            if error is None:
                await repo.settle(
                    claimed,
                    status=DeliveryStatus.SUCCEEDED,
                    response_status=status,
                    duration_ms=duration_ms,
                    error=None,
                    next_attempt_at=None,
                )
                if claimed.failing_since is not None:
                    await repo.set_failing_since(claimed.endpoint_id, None)
                return Outcome.SUCCEEDED, None
            gone = status == GONE
            delay = None if gone else retry_delay(claimed.attempt)
            next_at = now + delay if delay is not None else None
            await repo.settle(
                claimed,
                status=DeliveryStatus.FAILED,
                response_status=status,
                duration_ms=duration_ms,
                error=error,
                next_attempt_at=next_at,
            )
            if next_at is not None:
                (retry_id,) = await repo.add_deliveries(
                    [claimed.endpoint_id], claimed.event_id, claimed.attempt + 1, now, due=next_at
                )
                await self.queue.schedule(conn, retry_id, next_at)
            failing_since = claimed.failing_since
            if failing_since is None:
                failing_since = now
                await repo.set_failing_since(claimed.endpoint_id, now)
            reason = None
            if gone:
                reason = DisabledReason.GONE
            elif now - failing_since >= FAILING_FOR_DISABLE:
                reason = DisabledReason.FAILING
            disabled = None
            if reason is not None and await repo.disable(claimed.endpoint_id, reason.value, now):
                await self.events.record(conn, webhook_disabled(claimed.endpoint_id, reason), now)
                disabled = reason.value
        return (Outcome.RETRYING if next_at is not None else Outcome.FAILED), disabled
