"""Plain records of webhook endpoints and deliveries, and the retry schedule."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pressroom.events.models import EventType


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DisabledReason(StrEnum):
    GONE = "gone"  # the receiver answered 410
    FAILING = "failing"  # every delivery failed for FAILING_FOR_DISABLE
    MANUAL = "manual"  # PATCH {"enabled": false}


# After the n-th failed attempt the next one waits RETRY_DELAYS[n - 1]; after the last, the
# delivery has failed: seven attempts over about 18 hours (docs/webhooks.md).
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
# Retries are spread by up to this share either way, so deliveries that failed together (a
# receiver's outage) do not all come back at the same second.
RETRY_JITTER = 0.1
FAILING_FOR_DISABLE = timedelta(days=5)
# Jitter only spreads retries apart; it guards nothing, so it need not be a secure random.
_rng = random.Random()  # noqa: S311


def retry_delay(failed_attempt: int, rng: random.Random | None = None) -> timedelta | None:
    """How long after failed attempt number `failed_attempt` (1-based) the next one is due; None
    when that was the last."""
    if failed_attempt > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[failed_attempt - 1]
    return base * (1 + (rng or _rng).uniform(-RETRY_JITTER, RETRY_JITTER))


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    id: int
    url: str
    description: str | None
    events: tuple[EventType, ...]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SigningSecrets:
    current: str
    previous: str | None
    previous_expires_at: datetime | None

    def in_force(self, now: datetime) -> list[str]:
        """The secrets that sign a message sent at `now`: the current one, and the one it
        replaced for 24 hours after a rotation."""
        if self.previous and self.previous_expires_at and now < self.previous_expires_at:
            return [self.current, self.previous]
        return [self.current]


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """An endpoint and its secret, which is shown only in this answer (and after rotation)."""

    endpoint: EndpointRecord
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    endpoint_id: int
    event_id: int
    event_type: str
    attempt: int
    status: DeliveryStatus
    response_status: int | None
    duration_ms: int | None
    error: str | None
    created_at: datetime
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    status: DeliveryStatus | None = None
    event_type: str | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A pending attempt and what sending it takes, read by the worker holding its job."""

    id: int
    attempt: int
    endpoint_id: int
    url: str
    enabled: bool
    secrets: SigningSecrets
    failing_since: datetime | None
    event_id: int
    body: bytes
