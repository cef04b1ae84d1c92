"""One delivery attempt, as the background worker runs it: claim, check the target again, POST
the signed event, record what happened, and schedule what comes next (docs/webhooks.md).

No database connection is held while the receiver is being waited for: the attempt is claimed
in one short transaction and settled in another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

import httpx

from pressroom.db.units import UnitOfWork
from pressroom.events.payloads import webhook_disabled
from pressroom.events.recorder import EventRecorder
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
from pressroom.webhooks.queue import DeliveryQueue
from pressroom.webhooks.repository import WebhookRepository
from pressroom.webhooks.signing import webhook_headers

log = get_logger("pressroom.webhooks")
TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
# How long a claimed attempt is held: the send's whole timeout and then some. A sender that dies
# holding it (a killed worker) leaves it due again after this.
HOLD = timedelta(seconds=60)
# An event waiting behind an older one's first attempt to the same endpoint looks again after
# this long (events to one endpoint go in the order they occurred).
ORDER_WAIT = timedelta(seconds=2)
GONE = 410


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"  # failed; another attempt is scheduled
    FAILED = "failed"  # failed; no attempt follows
    WAITING = "waiting"  # an older event to the same endpoint goes first
    NOT_DUE = "not_due"  # not pending, not due yet, or held by another sender


class WebhookDeliverer:
    def __init__(
        self,
        events: EventRecorder,
        queue: DeliveryQueue,
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

    async def attempt(self, uow: UnitOfWork, delivery_id: int) -> Outcome:
        claimed = await self._claim(uow, delivery_id)
        if isinstance(claimed, Outcome):
            return claimed
        started = time.monotonic()
        # No connection is held while the receiver takes its time to answer.
        async with uow.released():
            status, error = await self._send(claimed)
        seconds = time.monotonic() - started
        outcome, disabled = await self._settle(uow, claimed, status, error, seconds)
        self.metrics.webhook_attempt(outcome.value, seconds)
        if disabled is not None:
            self.metrics.webhook_disabled(disabled)
            log.warning("webhook_disabled", endpoint_id=claimed.endpoint_id, reason=disabled)
        return outcome

    async def _claim(self, uow: UnitOfWork, delivery_id: int) -> ClaimedDelivery | Outcome:
        now = self.clock()
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            claimed = await repo.claim(delivery_id, now, now + HOLD)
            if claimed is None:
                due = await repo.due_at(delivery_id)
                if due is not None:
                    # Asked early, or while another sender holds it: asked again when it is due,
                    # so a job that ran at the wrong time never leaves the attempt unrun.
                    await self.queue.schedule(conn, delivery_id, due)
                return Outcome.NOT_DUE
            if not claimed.enabled:
                await repo.settle(
                    claimed,
                    status=DeliveryStatus.FAILED,
                    response_status=None,
                    duration_ms=None,
                    error="not sent: the webhook is disabled",
                    next_attempt_at=None,
                )
                return Outcome.FAILED
            if claimed.attempt == 1 and await repo.earlier_first_attempt_pending(
                claimed.endpoint_id, claimed.event_id
            ):
                until = now + ORDER_WAIT
                await repo.postpone(claimed, until)
                await self.queue.schedule(conn, delivery_id, until)
                return Outcome.WAITING
        return claimed

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
    ) -> tuple[Outcome, str | None]:
        now = self.clock()
        duration_ms = round(seconds * 1000)
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            if error is None:
                if not await repo.settle(
                    claimed,
                    status=DeliveryStatus.SUCCEEDED,
                    response_status=status,
                    duration_ms=duration_ms,
                    error=None,
                    next_attempt_at=None,
                ):
                    return Outcome.NOT_DUE, None
                if claimed.failing_since is not None:
                    await repo.set_failing_since(claimed.endpoint_id, None)
                return Outcome.SUCCEEDED, None
            gone = status == GONE
            delay = None if gone else retry_delay(claimed.attempt)
            next_at = now + delay if delay is not None else None
            if not await repo.settle(
                claimed,
                status=DeliveryStatus.FAILED,
                response_status=status,
                duration_ms=duration_ms,
                error=error,
                next_attempt_at=next_at,
            ):
                return Outcome.NOT_DUE, None
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
