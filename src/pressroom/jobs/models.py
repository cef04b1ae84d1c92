"""What a job is, how long it may keep trying, and how it ends."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pressroom.db.connection import Connection


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PermanentFailure(Exception):
    """A job that cannot succeed by trying again (an SMTP 5xx): it ends as failed at once."""


class LeaseLost(Exception):
    """The job's lease ran out while it ran: its transaction is rolled back, the job left to
    the worker that holds it now."""


# Given to a handler that settles its job itself, on the transaction that records its work: True
# when the job was still this attempt's (attempt-number fencing), so that work may commit.
SettleJob = Callable[[Connection], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits `first` × 2ⁿ⁻¹ (at most `longest`),
    less up to a third at random, so jobs that failed together do not retry in step."""

    first: timedelta = timedelta(seconds=6)
    longest: timedelta = timedelta(hours=1)
    keep_trying_for: timedelta = timedelta(hours=24)

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        exponent = min(max(failed_attempts - 1, 0), 30)
        ceiling: timedelta = min(self.first * (2**exponent), self.longest)
        jitter = (rng or _rng).uniform(0, 1 / 3)
        return ceiling * (1 - jitter)


# Jitter only spreads retries apart; it guards nothing, so it need not be a secure random.
_rng = random.Random()  # noqa: S311

MAIL_RETRIES = RetryPolicy()
# A job that settles accounts' own rows retries sooner, but for no longer.
QUICK_RETRIES = RetryPolicy(first=timedelta(seconds=2), longest=timedelta(minutes=5))


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker holds until `locked_until`; `attempt` fences its settling: a worker whose
    lease ran out, and whose job another worker claimed since, settles nothing."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    locked_until: datetime
    give_up_at: datetime


@dataclass(frozen=True, slots=True)
class JobSummary:
    id: int
    kind: str
    status: JobStatus
    attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What /metrics shows of the queue."""

    pending: int
    running: int
    failed: int
    oldest_pending_seconds: float
