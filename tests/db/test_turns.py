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
from pressroom.kit.shared_work import shared_work


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


async def test_a_cache_fill_goes_ahead_of_the_queue_and_has_a_turn_kept_for_it() -> None:
    """Forced order. Of three turns one is kept for shared work (a hot-read cache fill, which
    every reader of its page waits for): two ordinary requests hold the others and a third
    queues, while a fill is served at once. Then, with every turn held, a fill that asks after
    two queued requests is the first served when a turn comes back."""
    turns = Turns(3, timeout_seconds=5)
    served: list[str] = []

    async def ask(name: str, *, fill: bool = False) -> None:
        if fill:
            with shared_work():
                await turns.take()
        else:
            await turns.take()
        served.append(name)

    await ask("ordinary 1")
    await ask("ordinary 2")
    queued = asyncio.create_task(ask("ordinary 3"))
    await asyncio.sleep(0)  # it runs up to its wait
    assert served == ["ordinary 1", "ordinary 2"]
    await ask("fill 1", fill=True)  # the kept turn
    assert served == ["ordinary 1", "ordinary 2", "fill 1"]

    late = asyncio.create_task(ask("ordinary 4"))
    await asyncio.sleep(0)
    fill = asyncio.create_task(ask("fill 2", fill=True))
    await asyncio.sleep(0)
    turns.give_back()
    await fill
    assert served[-1] == "fill 2"
    for _ in ("fill 1", "fill 2", "ordinary 1"):  # the kept turn comes back free first
        turns.give_back()
    await asyncio.gather(queued, late)
    assert served[-2:] == ["ordinary 3", "ordinary 4"]


async def test_a_cache_fill_reads_while_requests_hold_every_other_connection(
    database_url: str,
) -> None:
    """What the kept turn is for: requests holding all other connections (edits waiting on a
    post's row lock) do not hold up the fill that every reader of a hot page waits for."""
    db = Database(database_url, pool_size=3, timeout_seconds=10)
    held = [await db.connect() for _ in range(2)]
    try:
        with shared_work():
            async with asyncio.timeout(5), db.read() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
        ordinary = asyncio.create_task(db.connect())
        await asyncio.sleep(0)
        assert not ordinary.done()  # the third connection is not theirs
        await db.disconnect(held.pop())
        held.append(await ordinary)
    finally:
        for conn in held:
            await db.disconnect(conn)
        await db.dispose()


async def test_a_waiter_cancelled_after_its_turn_came_passes_it_on() -> None:
    """Forced: a turn is handed to a waiter whose task is cancelled before it runs again; the
    turn goes to the next waiter instead of being lost."""
    turns = Turns(2, timeout_seconds=5)
    await turns.take()  # the one ordinary turn (the other is kept for shared work)
    first = asyncio.create_task(turns.take())
    second = asyncio.create_task(turns.take())
    await asyncio.sleep(0)  # both wait
    turns.give_back()  # handed to `first`...
    first.cancel()  # ...which is cancelled before it could use it
    with pytest.raises(asyncio.CancelledError):
        await first
    async with asyncio.timeout(5):
        await second  # got the turn `first` passed on
    with shared_work():
        async with asyncio.timeout(5):
            await turns.take()  # and the kept turn is still there
