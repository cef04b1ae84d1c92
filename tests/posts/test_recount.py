"""`pressroom recount` sets the published list's kept total from the rows and says what it
changed, on both databases; on PostgreSQL a writer racing it is neither lost nor counted twice."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from pressroom.db.units import UnitOfWork
from pressroom.posts.models import CounterRepair
from pressroom.services import Services
from tests.conftest import Person
from tests.operations.processes import PRESSROOM, server_env
from tests.posts.factories import create_post
from tests.posts.test_published_total import SLOTS_OFF


async def listed_total(anon: httpx.AsyncClient) -> int:
    reply = await anon.get("/posts", params={"limit": 1})
    assert reply.status_code == 200
    return int(reply.json()["pagination"]["total"])


async def drift(services: Services, changes: dict[int, int]) -> None:
    """What 0004's race left behind: slots off by these amounts."""
    async with services.db.write() as conn:
        for slot, change in changes.items():
            await conn.execute(
                text("UPDATE published_post_total SET posts = posts + :change WHERE slot = :slot"),
                {"change": change, "slot": slot},
            )


def run_recount(database_url: str) -> list[dict[str, Any]]:
    finished = subprocess.run(
        [PRESSROOM, "recount"],
        env=server_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]


async def test_recount_repairs_drifted_slots_and_reports_before_and_after(
    services: Services, uow: UnitOfWork, anon: httpx.AsyncClient, author: Person
) -> None:
    ids = [int((await create_post(author, title=f"post {n}"))["id"]) for n in range(5)]
    used = ids[0] % 16
    unused = next(slot for slot in range(16) if slot not in {i % 16 for i in ids})
    await drift(services, {used: -2, unused: 3})
    assert await listed_total(anon) == 6

    repairs = await services.posts.repair_counters(uow)

    assert repairs == [
        CounterRepair("published_post_total", 6, 5),
        *sorted(
            [
                CounterRepair(f"published_post_total slot {used}", -1, 1),
                CounterRepair(f"published_post_total slot {unused}", 3, 0),
            ],
            key=lambda repair: int(repair.counter.rsplit(" ", 1)[1]),
        ),
    ]
    assert await listed_total(anon) == 5
    async with services.db.read() as conn:
        assert (await conn.execute(SLOTS_OFF, {"yes": True})).all() == []
    assert await services.posts.repair_counters(uow) == []


async def test_the_command_reports_each_repair_then_nothing_to_repair(
    services: Services, anon: httpx.AsyncClient, author: Person, database_url: str
) -> None:
    slot = int((await create_post(author))["id"]) % 16
    await drift(services, {(slot + 1) % 16: 2})

    first = await asyncio.to_thread(run_recount, database_url)
    second = await asyncio.to_thread(run_recount, database_url)

    repaired = [
        (line["counter"], line["before"], line["after"])
        for line in first
        if line.get("event") == "counter_repaired"
    ]
    assert repaired == [
        ("published_post_total", 3, 1),
        (f"published_post_total slot {(slot + 1) % 16}", 2, 0),
    ]
    assert [line.get("result") for line in second if line.get("event") == "counters_checked"] == [
        "nothing to repair"
    ]
    assert not any(line.get("event") == "counter_repaired" for line in second)
    assert await listed_total(anon) == 1


@pytest.mark.postgres_only  # SQLite: one writer at a time, nothing lands between count and repair
async def test_a_post_published_while_recounting_is_counted_once(
    services: Services,
    uow: UnitOfWork,
    anon: httpx.AsyncClient,
    author: Person,
    database_url: str,
    backend: str,
) -> None:
    """PostgreSQL: the recount waits for a transaction that has changed a slot, and counts after
    it commits (without waiting it would set the slot from a count that misses the post)."""
    assert backend == "postgresql"
    draft = await create_post(author, published=False)
    slot = int(draft["id"]) % 16
    await create_post(author)
    await drift(services, {slot: 5})
    writer = await asyncpg.connect(database_url)
    watcher = await asyncpg.connect(database_url)
    try:
        await writer.execute("BEGIN")
        await writer.execute("UPDATE posts SET published = true WHERE id = $1", draft["id"])
        recount = asyncio.ensure_future(services.posts.repair_counters(uow))
        async with asyncio.timeout(10):
            while not recount.done():
                blocked = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
                if blocked:
                    break
                await asyncio.sleep(0.005)
        assert not recount.done(), "the recount must wait for the open writer"
        await writer.execute("COMMIT")
        await recount
    finally:
        await writer.close()
        await watcher.close()
    assert await listed_total(anon) == 2
    async with services.db.read() as conn:
        assert (await conn.execute(SLOTS_OFF, {"yes": True})).all() == []
