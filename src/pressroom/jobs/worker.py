"""The worker: a door like REST and GraphQL, that takes its work from the `jobs` table.

It claims due jobs under a lease (`JOB_LEASE_SECONDS`), runs each through its handler with at
most `WORKER_CONCURRENCY` at a time, and settles it: done, due again after a backoff, or failed.
Each attempt is cut off before its lease runs out, so a job is never run by two workers at once;
a worker that dies leaves its jobs to run again once their leases expire. Idle, it sleeps until
PostgreSQL's NOTIFY (sent when an enqueuing transaction commits) or the poll interval wakes it.
One log line per attempt, naming the job, never its payload (a mail's address and token).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.accounts.service import MAIL_JOB, PASSWORD_RESET_JOB, LeaseLost
from pressroom.db.units import UnitOfWork, unit_of_work
from pressroom.jobs.models import MAIL_RETRIES, QUICK_RETRIES, ClaimedJob, PermanentFailure
from pressroom.jobs.periodic import PERIODIC_JOBS, run_periodic, schedule_periodic
from pressroom.jobs.repository import WAKE_CHANNEL, JobRepository
from pressroom.kit.clock import utcnow
from pressroom.kit.observability import get_logger
from pressroom.mail.message import render
from pressroom.mail.sender import MailRejected, MailSender, mail_sender
from pressroom.services import Services

log = get_logger("pressroom.jobs")
# An attempt stops this long before its lease ends: time to settle it before anyone may claim it.
LEASE_MARGIN_SECONDS = 1.0
RETRIES = {MAIL_JOB: MAIL_RETRIES, PASSWORD_RESET_JOB: QUICK_RETRIES}
RETRIES.update({kind: job.retries for kind, job in PERIODIC_JOBS.items()})
# How often a worker checks that each periodic job is queued: after one that failed for good.
PERIODIC_CHECK_SECONDS = 600.0


class Worker:
    def __init__(
        self,
        services: Services,
        *,
        concurrency: int | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        sender: MailSender | None = None,
        name: str | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.concurrency = concurrency or settings.worker_concurrency
        self.lease = timedelta(seconds=lease_seconds or settings.job_lease_seconds)
        self.poll_seconds = poll_seconds or settings.worker_poll_seconds
        self.sender = sender or mail_sender(
            settings.smtp_url, settings.mail_dir, settings.smtp_timeout_seconds
        )
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._abandoned: set[asyncio.Future[bool]] = set()
        self._handlers: dict[str, Callable[[UnitOfWork, ClaimedJob], Awaitable[bool]]] = {
            MAIL_JOB: self._send_mail,
            PASSWORD_RESET_JOB: self._issue_password_reset,
        }
        for kind in PERIODIC_JOBS:
            self._handlers[kind] = self._run_periodic

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Claim what is due now, run it, and return how many attempts ran (tests, the CLI)."""
        claimed = await self._claim(self.concurrency)
        await asyncio.gather(*(self._attempt(job) for job in claimed))
        return len(claimed)

    async def drain(self) -> int:
        """Run due jobs until none is left due (jobs queued by jobs included)."""
        total = 0
        while ran := await self.run_due():
            total += ran
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then lets the attempts under way finish."""
        running: set[asyncio.Task[None]] = set()
        listening = await self._listen()
        stopping = asyncio.create_task(stop.wait())
        next_periodic_check = time.monotonic()
        try:
            while not stop.is_set():
                if time.monotonic() >= next_periodic_check:
                    next_periodic_check = time.monotonic() + PERIODIC_CHECK_SECONDS
                    await self.schedule_periodic()
                free = self.concurrency - len(running)
                claimed: list[ClaimedJob] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception as error:  # the database is away: wait, then look again
                        log.warning("jobs_claim_failed", error=type(error).__name__)
                for job in claimed:
                    task = asyncio.create_task(self._attempt(job))
                    running.add(task)
                    task.add_done_callback(self._finished(running))
                if claimed and len(claimed) == free:
                    continue  # more may be due; a free slot wakes us
                self._wake.clear()
                waking = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    {waking, stopping},
                    timeout=self.poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waking.cancel()
        finally:
            stopping.cancel()
            if running:
                await asyncio.wait(running)
            if listening is not None:
                await listening.close()

    async def schedule_periodic(self) -> int:
        """Queues the periodic jobs none has queued (jobs/periodic.py); how many it queued."""
        try:
            return await schedule_periodic(self.services.db)
        except Exception as error:  # the database is away: the next check asks again
            log.warning("jobs_schedule_periodic_failed", error=type(error).__name__)
            return 0

    def _finished(self, running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            self._wake.set()

        return done

    async def _listen(self) -> AsyncConnection | None:
        """On PostgreSQL, a connection LISTENing on the wake channel; polling covers the rest."""
        db = self.services.db
        if db.is_sqlite:
            return None
        conn = await db.engine.connect()
        try:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.add_listener(WAKE_CHANNEL, self._notified)
        except Exception as error:
            await conn.close()
            log.warning("jobs_listen_failed", error=type(error).__name__)
            return None
        return conn

    def _notified(self, *_args: Any) -> None:
        self._wake.set()

    async def _claim(self, limit: int) -> list[ClaimedJob]:
        async with unit_of_work(self.services.db) as uow, uow.write() as conn:
            return await JobRepository(conn).claim(self.name, utcnow(), self.lease, limit)

    async def _attempt(self, job: ClaimedJob) -> None:
        # One unit per job, closed however the attempt ends.
        async with unit_of_work(self.services.db) as uow:
            await self._attempt_in(uow, job)

    async def _attempt_in(self, uow: UnitOfWork, job: ClaimedJob) -> None:
        started = time.monotonic()
        outcome, error = "succeeded", None
        handler = self._handlers.get(job.kind)
        budget = (job.locked_until - utcnow()).total_seconds() - LEASE_MARGIN_SECONDS
        try:
            if handler is None:
                raise PermanentFailure(f"no handler for job kind {job.kind!r}")
            settled = await self._within(handler(uow, job), budget)
            if not settled and not await self._settle(
                uow, lambda jobs: jobs.succeed(job, utcnow())
            ):
                outcome = "lease_lost"
        except LeaseLost:
            outcome = "lease_lost"
        except (PermanentFailure, MailRejected) as failure:
            outcome, error = "failed", str(failure) or type(failure).__name__
            await self._settle(uow, lambda jobs: jobs.fail(job, utcnow(), error or ""))
        except Exception as failure:
            error = str(failure) or type(failure).__name__
            outcome = await self._retry_or_fail(uow, job, error)
        self.services.metrics.count(f"job_{outcome}")
        log.info(
            "job_attempt",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempt,
            outcome=outcome,
            error=error,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )

    async def _within(self, work: Awaitable[bool], seconds: float) -> bool:
        """`work`'s result, or TimeoutError once `seconds` have passed. Cancelled work is not
        waited for: a client library's clean-up (an SMTP QUIT to a server that does not answer)
        could otherwise hold the attempt past its lease."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.1))
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            raise TimeoutError
        return task.result()

    async def _retry_or_fail(self, uow: UnitOfWork, job: ClaimedJob, error: str) -> str:
        now = utcnow()
        run_at = now + RETRIES.get(job.kind, MAIL_RETRIES).delay(job.attempt)
        if run_at > job.give_up_at:
            await self._settle(uow, lambda jobs: jobs.fail(job, now, error))
            return "failed"
        await self._settle(uow, lambda jobs: jobs.retry_at(job, run_at, error))
        return "retry_scheduled"

    async def _settle(
        self, uow: UnitOfWork, change: Callable[[JobRepository], Awaitable[bool]]
    ) -> bool:
        """False when the job was not this attempt's any more, or the database was away: then
        its lease runs out and it runs again, so nothing is lost."""
        try:
            async with uow.write() as conn:
                return await change(JobRepository(conn))
        except Exception as error:
            log.warning("job_settle_failed", error=type(error).__name__)
            return False

    # Handlers: True when they settled the job themselves (in their own transaction).

    async def _send_mail(self, _uow: UnitOfWork, job: ClaimedJob) -> bool:
        payload = job.payload
        context = dict(payload["context"])
        if "token_seed" in payload:
            token, link = self.services.accounts.mail_token_and_link(
                payload["token_seed"], payload["link_path"]
            )
            context.update(token=token, link=link)
        settings = self.services.settings
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
        message = render(
            payload["template"],
            to=payload["to"],
            sender=settings.mail_from,
            message_id=f"<pressroom-job-{job.id}@{domain}>",
            context=context,
        )
        await self.sender.send(message)
        return False

    async def _run_periodic(self, uow: UnitOfWork, job: ClaimedJob) -> bool:
        return await run_periodic(self.services, uow, job)

    async def _issue_password_reset(self, uow: UnitOfWork, job: ClaimedJob) -> bool:
        async def settle(conn: AsyncConnection) -> bool:
            return await JobRepository(conn).succeed(job, utcnow())

        await self.services.accounts.issue_password_reset(uow, job.payload["email"], settle)
        return True
