"""Requests waiting for a database connection are served in the order they came: a request
that gives its connection back and asks again goes behind those already waiting, so under
load every wait is about as long as the queue, and none runs into the pool timeout alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from pressroom.db.engine import Database
from pressroom.db.turns import Turns


async def test_a_turn_given_back_goes_to_the_longest_waiter_not_to_its_giver() -> None:
    """The rule itself, with the order forced: one turn, held; three requests queue for it (one
    step of the event loop runs each to its wait); the holder gives the turn back and asks again
    at once. SQLAlchemy's pool would let it take the connection straight back."""
    turns = Turns(1, timeout_seconds=5)
    served: list[str] = []

    async def waiter(name: str) -> None:
        async with turns.held():
            served.append(name)

    await turns.take()
    waiters = [asyncio.create_task(waiter(name)) for name in ("first", "second", "third")]
    await asyncio.sleep(0)  # each waiter runs up to its wait, in creation order
    turns.give_back()
    async with turns.held():
        served.append("giver, asking again")
    await asyncio.gather(*waiters)
    assert served == ["first", "second", "third", "giver, asking again"]


async def test_a_request_asking_again_waits_behind_those_already_waiting(
    database_url: str,
) -> None:
    db = Database(database_url, pool_size=2, timeout_seconds=10)
    served: list[tuple[int, int]] = []

    async def client(number: int) -> None:
        for attempt in range(4):
            async with db.read() as conn:
                # Recorded when the turn is had, not when the statement ends: two reads run at
                # once, and on a busy machine the later one may finish first.
                served.append((number, attempt))
                await conn.execute(text("SELECT 1"))

    try:
        await asyncio.gather(*(client(number) for number in range(30)))
    finally:
        await db.dispose()
    # Every client's first read is served before anyone's second: nobody jumps the queue.
    first_reads = [attempt == 0 for _, attempt in served]
    assert first_reads == [True] * 30 + [False] * 90


async def test_a_wait_beyond_the_timeout_is_refused_not_left_hanging(database_url: str) -> None:
    db = Database(database_url, pool_size=1, timeout_seconds=0.2)
    try:
        async with db.read():
            with pytest.raises(sa_exc.TimeoutError):
                async with db.read():
                    pass
        async with db.read() as conn:  # the refused wait left no turn taken
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()
