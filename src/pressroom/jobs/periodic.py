"""Periodic jobs: work the worker queues for itself every so often (housekeeping).

Each periodic kind has at most one pending or running job (a unique index on `jobs.unique_key`
over open jobs), so any number of workers may ask for it at once and one job is queued:
`schedule_periodic` asks at a worker's start and once an interval after. When the job succeeds,
the same transaction that settles it queues the next run an interval later; a run that failed
for good is asked for again at the next worker's check. Runs are ordinary jobs otherwise: under
a lease, retried with backoff, listed by `pressroom jobs`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from pressroom.accounts.service import LeaseLost
from pressroom.db.engine import Database
from pressroom.db.units import UnitOfWork, unit_of_work
from pressroom.idempotency.service import EXPIRE_KEYS_JOB
from pressroom.jobs.models import ClaimedJob, RetryPolicy
from pressroom.jobs.repository import JobRepository
from pressroom.kit.clock import utcnow
from pressroom.services import Services


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    kind: str
    every: timedelta
    work: Callable[[Services, UnitOfWork], Awaitable[object]]

    @property
    def retries(self) -> RetryPolicy:
        # A failed run is tried again sooner than the next run is due, for no longer than that.
        return RetryPolicy(
            first=timedelta(seconds=30), longest=self.every, keep_trying_for=self.every
        )


async def _expire_idempotency_keys(services: Services, uow: UnitOfWork) -> int:
    return await services.idempotency.expire(uow)


PERIODIC_JOBS = {
    job.kind: job
    for job in (
        # Keys past their 24 hours are already treated as new when a request reads them; this
        # takes their rows away.
        PeriodicJob(EXPIRE_KEYS_JOB, timedelta(hours=1), _expire_idempotency_keys),
    )
}


async def schedule_periodic(db: Database) -> int:
    """Queues each periodic job that has none pending or running, due now; how many this call
    queued (0 when another worker had, or has at the same time)."""
    now = utcnow()
    async with unit_of_work(db) as uow, uow.write() as conn:
        repo = JobRepository(conn)
        queued = [
            await repo.enqueue_once(job.kind, now, now, job.retries)
            for job in PERIODIC_JOBS.values()
        ]
    return sum(queued)


async def run_periodic(services: Services, uow: UnitOfWork, claimed: ClaimedJob) -> bool:
    """The worker's handler for every periodic kind: the work, then one transaction that settles
    the job as succeeded and queues the next run (so no moment passes with neither)."""
    job = PERIODIC_JOBS[claimed.kind]
    await job.work(services, uow)
    async with uow.write() as conn:
        repo = JobRepository(conn)
        now = utcnow()
        if not await repo.succeed(claimed, now):
            raise LeaseLost
        await repo.enqueue_once(job.kind, now + job.every, now, job.retries)
    return True
