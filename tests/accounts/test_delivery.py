"""The queue under mail: retries with backoff, 5xx failures, leases that outlive no attempt, a
worker killed mid-send, two workers on one job, and what operators see."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from pressroom.db.tables import jobs
from pressroom.db.units import unit_of_work
from pressroom.jobs.models import MAIL_RETRIES
from pressroom.jobs.repository import JobRepository
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.mail.sender import SmtpSender, SmtpServer
from pressroom.services import Services
from tests.accounts.mailbox import Mailbox, MailServer
from tests.conftest import People
from tests.operations.processes import PRESSROOM, server_env


async def job_rows(services: Services) -> list[Any]:
    """The jobs that changes queued: not the periodic ones a `pressroom worker` queues for
    itself at start (jobs/periodic.py)."""
    async with services.db.read() as conn:
        columns = (jobs.c.id, jobs.c.status, jobs.c.attempts, jobs.c.run_at, jobs.c.last_error)
        query = select(*columns).where(jobs.c.unique_key.is_(None)).order_by(jobs.c.id)
        return list((await conn.execute(query)).all())


async def time_passes(services: Services) -> None:
    """Every waiting job is due now, as if its backoff had elapsed."""
    async with services.db.write() as conn:
        await conn.execute(
            text("UPDATE jobs SET run_at = :now WHERE status = 'pending'"), {"now": utcnow()}
        )


def test_backoff_starts_within_ten_seconds_doubles_to_an_hour_and_stops_after_a_day() -> None:
    rng = random.Random(7)
    delays = [MAIL_RETRIES.delay(n, rng) for n in range(1, 16)]
    assert timedelta(seconds=3) <= delays[0] <= timedelta(seconds=10)
    ceilings = [min(6 * 2 ** (n - 1), 3600) for n in range(1, 16)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        # Jitter takes up to a third off, never adds: retries spread out but stay on schedule.
        assert timedelta(seconds=ceiling * 2 / 3) <= delay <= timedelta(seconds=ceiling)
    assert delays[-1] > timedelta(minutes=40)
    assert MAIL_RETRIES.keep_trying_for == timedelta(hours=24)


async def test_mail_waits_out_an_smtp_outage_and_arrives(
    people: People, services: Services, worker: Worker, smtp: MailServer
) -> None:
    smtp.stop()
    await people.make(email="patient@example.com")
    before = utcnow()
    assert await worker.drain() == 1
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.last_error  # why, without the mail
    assert job.run_at - before <= timedelta(seconds=10)  # the first retry comes soon
    assert await worker.drain() == 0  # not before its time
    smtp.start()
    await time_passes(services)
    assert await worker.drain() == 1
    assert [m.to for m in smtp.mailbox.arrived] == ["patient@example.com"]
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("succeeded", 2)


async def test_a_4xx_reply_retries_and_a_5xx_fails_the_job_until_an_operator_retries_it(
    people: People, services: Services, worker: Worker, mailbox: Mailbox
) -> None:
    mailbox.replies = ["451 4.7.1 greylisted, try later", "550 5.1.1 mailbox unavailable"]
    await people.make(email="bounce@example.com")
    await worker.drain()
    assert [(j.status, j.attempts) for j in await job_rows(services)] == [("pending", 1)]
    await time_passes(services)
    await worker.drain()
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("failed", 2)
    assert "550" in job.last_error
    assert "bounce@example.com" not in job.last_error
    async with unit_of_work(services.db) as uow:
        failed = await services.jobs.listing(uow, "failed")
    assert [j.id for j in failed] == [job.id]
    assert await worker.drain() == 0  # failed stays failed
    async with unit_of_work(services.db) as uow:
        await services.jobs.retry(uow, job.id)
    await worker.drain()
    assert [m.to for m in mailbox.arrived] == ["bounce@example.com"]


async def test_the_last_attempt_ends_the_job_as_failed(
    people: People, services: Services, worker: Worker, smtp: MailServer
) -> None:
    smtp.stop()
    await people.make(email="late@example.com")
    async with services.db.write() as conn:  # a day has gone by since it was queued
        await conn.execute(text("UPDATE jobs SET give_up_at = :now"), {"now": utcnow()})
    await worker.drain()
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("failed", 1)


async def test_an_attempt_is_cut_off_before_its_lease_ends(
    people: People, services: Services, smtp: MailServer, mailbox: Mailbox
) -> None:
    # A server that never answers DATA: the attempt must give up while it still holds the
    # lease, so no second worker can be sending the same mail at the same time.
    release = threading.Event()
    mailbox.hold = release
    await people.make(email="slow@example.com")
    sender = SmtpSender(SmtpServer.from_url(smtp.url), timeout_seconds=60)
    worker = Worker(services, sender=sender, lease_seconds=2.5, poll_seconds=0.05)
    try:
        assert await worker.drain() == 1
    finally:
        release.set()
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.last_error == "TimeoutError"
    await time_passes(services)
    await worker.drain()
    assert [m.to for m in mailbox.arrived] == ["slow@example.com"]


@pytest.mark.postgres_only
async def test_two_workers_on_postgresql_never_hold_the_same_job(
    people: People, services: Services
) -> None:
    await people.make(email="once@example.com")
    lease = timedelta(seconds=30)
    engine = services.db.engine
    async with engine.connect() as a_conn, engine.connect() as b_conn:
        a = await a_conn.execution_options(isolation_level="READ COMMITTED")
        b = await b_conn.execution_options(isolation_level="READ COMMITTED")
        now = utcnow()
        async with a.begin():
            [claimed] = await JobRepository(a).claim("A", now, lease, 10)
            # A's claim is not committed yet: B skips the locked row instead of waiting for it.
            async with b.begin():
                assert await JobRepository(b).claim("B", now, lease, 10) == []
        # Committed: the job is A's until its lease ends.
        async with b.begin():
            assert await JobRepository(b).claim("B", now + lease / 2, lease, 10) == []
        # A's lease ran out (A died, or hung): B takes the job over, and A can settle nothing.
        later = now + lease + timedelta(seconds=1)
        async with b.begin():
            [taken] = await JobRepository(b).claim("B", later, lease, 10)
        assert (taken.id, taken.attempt) == (claimed.id, claimed.attempt + 1)
        async with a.begin():
            assert not await JobRepository(a).succeed(claimed, later)
        async with b.begin():
            assert await JobRepository(b).succeed(taken, later)


async def test_a_worker_killed_mid_send_leaves_the_mail_to_the_next_worker(
    people: People, services: Services, smtp: MailServer, database_url: str, tmp_path: Path
) -> None:
    await people.make(email="survivor@example.com")
    release = threading.Event()
    smtp.mailbox.hold = release
    env = server_env(
        DATABASE_URL=database_url,
        SMTP_URL=smtp.url,
        JOB_LEASE_SECONDS="3",
        WORKER_POLL_SECONDS="0.1",
        LOG_LEVEL="INFO",
    )
    first = await asyncio.create_subprocess_exec(
        PRESSROOM, "worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        reached = await asyncio.to_thread(smtp.mailbox.data_started.wait, 60)
        assert reached, "the worker never reached the SMTP server"
        first.send_signal(signal.SIGKILL)  # mid-send: DATA sent, no reply yet
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
        release.set()
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("running", 1)  # held by a worker that is gone
    log_path = tmp_path / "second.log"
    with log_path.open("wb") as log:
        second = await asyncio.create_subprocess_exec(
            PRESSROOM, "worker", env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        arrived = await asyncio.to_thread(smtp.mailbox.wait_for, 1, 60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        if second.returncode is None:
            second.kill()
    assert [m.to for m in arrived] == ["survivor@example.com"]
    [job] = await job_rows(services)
    assert (job.status, job.attempts) == ("succeeded", 2)
    logs = log_path.read_text()
    assert '"outcome":"succeeded"' in logs
    assert "survivor@example.com" not in logs  # one line per attempt, never the mail


async def test_metrics_show_the_queue(
    people: People, services: Services, client: httpx.AsyncClient, smtp: MailServer
) -> None:
    smtp.stop()
    await people.make(email="m1@example.com")
    await people.make(email="m2@example.com")
    metrics = (await client.get("http://testserver/metrics")).text
    assert "pressroom_jobs_queued 2.0" in metrics
    assert "pressroom_jobs_running 0.0" in metrics
    assert "pressroom_jobs_failed 0.0" in metrics
    assert "pressroom_jobs_oldest_pending_age_seconds" in metrics
