"""The job queue measured: jobs/s through one worker, and the time from an enqueuing commit to
the start of its job, on the database `DATABASE_URL` names (a throwaway one: it is migrated and
its jobs table emptied).

    DATABASE_URL=sqlite:////tmp/jobs.db .venv/bin/python bench/jobs.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/jobs_bench .venv/bin/python bench/jobs.py

Each job is a real verification mail rendered from its templates; the sender at the end only
notes the time (SMTP's own cost is the server's, not the queue's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from email.message import EmailMessage

from sqlalchemy import text

from pressroom.config import Settings
from pressroom.db.migrate import migrate
from pressroom.jobs.models import MAIL_RETRIES
from pressroom.jobs.repository import JobRepository
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.services import Services

PAYLOAD = {
    "template": "verify_email",
    "to": "bench@example.com",
    "context": {"email": "bench@example.com"},
    "token_seed": "seed-for-the-benchmark",
    "link_path": "/verify-email",
}


class Stopwatch:
    """A sender that only records when each mail would have left."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.arrived = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(time.perf_counter())
        self.arrived.set()


async def throughput(services: Services, jobs: int, concurrency: int) -> float:
    async with services.db.write() as conn:
        repo = JobRepository(conn)
        for _ in range(jobs):
            await repo.enqueue("mail", PAYLOAD, utcnow(), MAIL_RETRIES)
    worker = Worker(services, sender=Stopwatch(), concurrency=concurrency)
    started = time.perf_counter()
    done = await worker.drain()
    assert done == jobs, done
    return jobs / (time.perf_counter() - started)


async def latency(services: Services, samples: int) -> list[float]:
    watch = Stopwatch()
    worker = Worker(services, sender=watch)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)  # the worker is idle, listening or polling
    waits = []
    for _ in range(samples):
        watch.arrived.clear()
        async with services.db.write() as conn:
            await JobRepository(conn).enqueue("mail", PAYLOAD, utcnow(), MAIL_RETRIES)
        committed = time.perf_counter()
        await asyncio.wait_for(watch.arrived.wait(), 10)
        waits.append(watch.sent[-1] - committed)
        await asyncio.sleep(0.05)
    stop.set()
    await running
    return waits


async def main(jobs: int, samples: int, concurrency: int) -> None:
    url = os.environ["DATABASE_URL"]
    services = Services.build(Settings(database_url=url, log_level="WARNING"))
    try:
        async with services.db.write() as conn:
            await conn.execute(text("DELETE FROM jobs"))
        rate = await throughput(services, jobs, concurrency)
        waits = await latency(services, samples)
    finally:
        await services.close()
    print(f"database: {services.db.engine.dialect.name}")
    print(f"throughput, one worker, concurrency {concurrency}: {rate:.0f} jobs/s ({jobs} jobs)")
    median_ms, max_ms = statistics.median(waits) * 1000, max(waits) * 1000
    print(
        f"commit -> start, idle worker ({samples} samples): median {median_ms:.1f} ms,"
        f" max {max_ms:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    migrate(os.environ["DATABASE_URL"])
    asyncio.run(main(args.jobs, args.samples, args.concurrency))
