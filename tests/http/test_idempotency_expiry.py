"""Expired Idempotency-Keys are removed by the periodic job `idempotency.expire`, which the
workers queue for themselves: one job however many workers ask, the next run queued by the
transaction that settles this one. Live keys stay and replay, up to the last microsecond."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, text

from pressroom.db.tables import idempotency_keys, jobs
from pressroom.db.units import UnitOfWork
from pressroom.idempotency import service as idempotency_service
from pressroom.idempotency.service import EXPIRE_KEYS_JOB
from pressroom.jobs.periodic import PERIODIC_JOBS, schedule_periodic
from pressroom.jobs.repository import JobRepository
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.services import Services
from tests.conftest import Person

BODY = {"title": "Once", "content": "only once", "published": True}


@pytest.fixture
def worker(services: Services) -> Worker:
    return Worker(services, lease_seconds=30, poll_seconds=0.05)


async def expire_jobs(services: Services) -> list[Any]:
    async with services.db.read() as conn:
        query = (
            select(jobs.c.status, jobs.c.run_at)
            .where(jobs.c.kind == EXPIRE_KEYS_JOB)
            .order_by(jobs.c.id)
        )
        return list((await conn.execute(query)).all())


async def kept_keys(services: Services) -> set[str]:
    async with services.db.read() as conn:
        return set((await conn.scalars(select(idempotency_keys.c.key))).all())


async def set_expiry(services: Services, key: str, expires_at: datetime) -> None:
    async with services.db.write() as conn:
        await conn.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.key == key)
            .values(expires_at=expires_at)
        )


async def test_the_periodic_job_removes_expired_keys_and_keeps_live_ones(
    author: Person, services: Services, worker: Worker
) -> None:
    for key in ("old", "live"):
        reply = await author.post("/posts", json=BODY, headers={"Idempotency-Key": key})
        assert reply.status_code == 201
    await set_expiry(services, "old", utcnow() - timedelta(seconds=1))

    assert await worker.schedule_periodic() == 1
    await worker.drain()

    assert await kept_keys(services) == {"live"}
    again = await author.post("/posts", json=BODY, headers={"Idempotency-Key": "live"})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    # The run succeeded and, in the same transaction, queued the next one an hour on.
    (done, _), (following, next_at) = await expire_jobs(services)
    assert (done, following) == ("succeeded", "pending")
    assert next_at - utcnow() > timedelta(minutes=59)


async def test_a_key_is_kept_and_replayed_to_its_last_moment_and_new_after_it(
    author: Person, services: Services, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep and a request judge expiry by the same rule (`expires_at <= now` is expired):
    a microsecond before, the sweep keeps the key and a retry replays it (another body is
    refused); at the instant, the sweep removes it and the same request makes a new post."""
    key = {"Idempotency-Key": "edge"}
    first = await author.post("/posts", json=BODY, headers=key)
    assert first.status_code == 201
    edge = utcnow() + timedelta(hours=1)
    await set_expiry(services, "edge", edge)
    now = edge - timedelta(microseconds=1)
    monkeypatch.setattr(idempotency_service, "utcnow", lambda: now)

    assert await services.idempotency.expire(uow) == 0
    replay = await author.post("/posts", json=BODY, headers=key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == first.content
    other = await author.post("/posts", json={**BODY, "title": "Other"}, headers=key)
    assert other.status_code == 422

    now = edge
    assert await services.idempotency.expire(uow) == 1
    assert await kept_keys(services) == set()
    fresh = await author.post("/posts", json=BODY, headers=key)
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]


async def test_many_workers_asking_at_once_queue_one_job(services: Services) -> None:
    workers = [Worker(services, lease_seconds=30, name=f"w{n}") for n in range(5)]
    queued = await asyncio.gather(*(worker.schedule_periodic() for worker in workers))
    assert sorted(queued) == [0, 0, 0, 0, 1]
    assert [status for status, _ in await expire_jobs(services)] == ["pending"]

    # While it runs, it is still the one: nobody queues another.
    async with services.db.write() as conn:
        claimed = await JobRepository(conn).claim("w0", utcnow(), timedelta(seconds=30), 10)
    assert [job.kind for job in claimed] == [EXPIRE_KEYS_JOB]
    assert await workers[1].schedule_periodic() == 0
    assert [status for status, _ in await expire_jobs(services)] == ["running"]


async def test_a_run_that_failed_for_good_is_queued_again(services: Services) -> None:
    assert await schedule_periodic(services.db) == 1
    async with services.db.write() as conn:
        await conn.execute(text("UPDATE jobs SET status = 'failed'"))
    assert await schedule_periodic(services.db) == 1
    assert [status for status, _ in await expire_jobs(services)] == ["failed", "pending"]


@pytest.mark.postgres_only
async def test_a_worker_asking_while_another_has_queued_but_not_committed_queues_nothing(
    services: Services, database_url: str
) -> None:
    """Forced order: worker A queues the job in a transaction it keeps open; worker B asks and
    waits on A's index entry (seen in pg_stat_activity); A commits; B has queued nothing."""
    now = utcnow()
    watcher = await asyncpg.connect(database_url)
    try:
        async with services.db.write() as conn:
            periodic = JobRepository(conn)
            job = PERIODIC_JOBS[EXPIRE_KEYS_JOB]
            assert await periodic.enqueue_once(job.kind, now, now, job.retries)
            other = asyncio.create_task(schedule_periodic(services.db))
            async with asyncio.timeout(10):
                while not await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ):
                    assert not other.done(), "B did not wait for A's uncommitted job"
                    await asyncio.sleep(0.01)
        assert await other == 0
    finally:
        await watcher.close()
    assert [status for status, _ in await expire_jobs(services)] == ["pending"]
