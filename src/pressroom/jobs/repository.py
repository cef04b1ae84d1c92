"""All SQL about jobs: enqueue in the caller's transaction, claim under a lease, settle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import JOB_IS_OPEN, jobs
from pressroom.jobs.models import ClaimedJob, JobStatus, JobSummary, QueueFigures, RetryPolicy

# PostgreSQL delivers a NOTIFY only when its transaction commits: idle workers LISTENing on
# this channel wake for a job exactly when it becomes visible to them, never for a rolled-back one.
WAKE_CHANNEL = "pressroom_jobs"
ERROR_MAX_CHARS = 500


class JobRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @property
    def _postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        now: datetime,
        retries: RetryPolicy,
    ) -> int:
        """Record a job in the caller's transaction: it exists if and only if that commits."""
        job_id = await self.conn.scalar(
            insert(jobs)
            .values(
                kind=kind,
                payload=orjson.dumps(payload).decode(),
                status=JobStatus.PENDING,
                attempts=0,
                run_at=now,
                give_up_at=now + retries.keep_trying_for,
                created_at=now,
            )
            .returning(jobs.c.id)
        )
        assert job_id is not None
        if self._postgres:
            await self.conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
        return int(job_id)

    async def enqueue_once(
        self, kind: str, run_at: datetime, now: datetime, retries: RetryPolicy
    ) -> bool:
        """Queue a job of `kind` due at `run_at` unless one is already pending or running:
        True when this call queued it. The unique index decides, so of workers asking at the
        same time exactly one queues it (on PostgreSQL the others wait for its commit)."""
        dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        job_id = await self.conn.scalar(
            dialect_insert(jobs)
            .values(
                kind=kind,
                payload="{}",
                status=JobStatus.PENDING,
                attempts=0,
                run_at=run_at,
                give_up_at=run_at + retries.keep_trying_for,
                created_at=now,
                unique_key=kind,
            )
            .on_conflict_do_nothing(index_elements=[jobs.c.unique_key], index_where=JOB_IS_OPEN)
            .returning(jobs.c.id)
        )
        if job_id is not None and self._postgres:
            await self.conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
        return job_id is not None

    async def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedJob]:
        """Take up to `limit` due jobs: pending ones whose time has come, and running ones whose
        worker's lease ran out (it died or hung). On PostgreSQL the candidates are locked with
        SKIP LOCKED, so concurrent workers take disjoint jobs without waiting on each other;
        SQLite's write transactions are serial (BEGIN IMMEDIATE), which gives the same."""
        due = or_(
            and_(jobs.c.status == JobStatus.PENDING, jobs.c.run_at <= now),
            and_(jobs.c.status == JobStatus.RUNNING, jobs.c.locked_until < now),
        )
        candidates = select(jobs.c.id).where(due).order_by(jobs.c.run_at, jobs.c.id).limit(limit)
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        locked_until = now + lease
        rows = (
            await self.conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(candidates.scalar_subquery()))
                .values(
                    status=JobStatus.RUNNING,
                    attempts=jobs.c.attempts + 1,
                    locked_by=worker,
                    locked_until=locked_until,
                )
                .returning(
                    jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.give_up_at
                )
            )
        ).all()
        claimed = [
            ClaimedJob(
                r.id, r.kind, orjson.loads(r.payload), r.attempts, locked_until, r.give_up_at
            )
            for r in rows
        ]
        return sorted(claimed, key=lambda job: job.id)

    async def succeed(self, job: ClaimedJob, now: datetime) -> bool:
        """False when the job is no longer this attempt's (its lease ran out and it was
        claimed again): the caller must not count on its work being kept."""
        return await self._settle(job, status=JobStatus.SUCCEEDED, finished_at=now, last_error=None)

    async def fail(self, job: ClaimedJob, now: datetime, error: str) -> bool:
        return await self._settle(
            job, status=JobStatus.FAILED, finished_at=now, last_error=error[:ERROR_MAX_CHARS]
        )

    async def retry_at(self, job: ClaimedJob, run_at: datetime, error: str) -> bool:
        return await self._settle(
            job, status=JobStatus.PENDING, run_at=run_at, last_error=error[:ERROR_MAX_CHARS]
        )

    async def _settle(self, job: ClaimedJob, **values: Any) -> bool:
        result = await self.conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job.id,
                jobs.c.status == JobStatus.RUNNING,
                jobs.c.attempts == job.attempt,
            )
            .values(locked_by=None, locked_until=None, **values)
        )
        return result.rowcount == 1

    async def retry_failed(self, job_id: int, now: datetime) -> bool:
        """An operator's retry: a failed job is due now, with as long again to keep trying."""
        window = (
            await self.conn.execute(
                select(jobs.c.created_at, jobs.c.give_up_at).where(
                    jobs.c.id == job_id, jobs.c.status == JobStatus.FAILED
                )
            )
        ).first()
        if window is None:
            return False
        result = await self.conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.FAILED)
            .values(
                status=JobStatus.PENDING,
                run_at=now,
                give_up_at=now + (window.give_up_at - window.created_at),
                finished_at=None,
            )
        )
        if result.rowcount == 1 and self._postgres:
            await self.conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
        return result.rowcount == 1

    async def listing(self, statuses: tuple[JobStatus, ...], limit: int) -> list[JobSummary]:
        rows = (
            await self.conn.execute(
                select(
                    jobs.c.id,
                    jobs.c.kind,
                    jobs.c.status,
                    jobs.c.attempts,
                    jobs.c.run_at,
                    jobs.c.created_at,
                    jobs.c.finished_at,
                    jobs.c.last_error,
                )
                .where(jobs.c.status.in_(statuses))
                .order_by(jobs.c.id.desc())
                .limit(limit)
            )
        ).all()
        return [
            JobSummary(
                r.id,
                r.kind,
                JobStatus(r.status),
                r.attempts,
                r.run_at,
                r.created_at,
                r.finished_at,
                r.last_error,
            )
            for r in rows
        ]

    async def figures(self, now: datetime) -> QueueFigures:
        rows = (
            await self.conn.execute(
                select(jobs.c.status, func.count(), func.min(jobs.c.created_at))
                .where(jobs.c.status != JobStatus.SUCCEEDED)
                .group_by(jobs.c.status)
            )
        ).all()
        counts = {row[0]: int(row[1]) for row in rows}
        # min() keeps the column's type, so this is an aware datetime on both databases.
        oldest: datetime | None = next(
            (row[2] for row in rows if row[0] == JobStatus.PENDING), None
        )
        return QueueFigures(
            pending=counts.get(JobStatus.PENDING, 0),
            running=counts.get(JobStatus.RUNNING, 0),
            failed=counts.get(JobStatus.FAILED, 0),
            oldest_pending_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
        )
