"""A service's write is one transaction that commits once, on both databases, although
PostgreSQL connections otherwise sit in autocommit mode for reads; and a unit of work gives back
what it holds when a read or write fails, is cancelled, or makes way for slow work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import Executable, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import tags
from pressroom.db.units import UnitOfWork
from pressroom.services import Services


class Boom(Exception):
    pass


async def _write_a_tag_then_fail(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(insert(tags).values(name="Half", slug="half"))
        raise Boom


async def _tags_with_slug(services: Services, slug: str) -> int | None:
    async with services.db.read() as conn:
        return await conn.scalar(select(func.count()).where(tags.c.slug == slug))


async def test_a_write_that_fails_midway_leaves_nothing(services: Services) -> None:
    with pytest.raises(Boom):
        await _write_a_tag_then_fail(services)
    assert await _tags_with_slug(services, "half") == 0


async def test_a_finished_write_is_seen_by_every_later_read(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(insert(tags).values(name="Whole", slug="whole"))
    for _ in range(3):  # whichever pooled connection is handed out
        assert await _tags_with_slug(services, "whole") == 1


# What a door's unit of work holds, and when it gives it back (db/units.py).


def checked_out(services: Services) -> int:
    return int(services.db.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


def assert_checked_out(services: Services, count: int) -> None:
    assert checked_out(services) == count


@pytest.mark.postgres_only
async def test_a_units_reads_share_one_connection_on_postgresql(
    services: Services, uow: UnitOfWork
) -> None:
    async with uow.read() as conn:
        first = await conn.scalar(select(func.pg_backend_pid()))
        assert checked_out(services) == 1
    async with uow.read() as conn:
        second = await conn.scalar(select(func.pg_backend_pid()))
    assert second == first
    assert checked_out(services) == 1  # kept for the next read, until the unit closes
    await uow.close()
    assert checked_out(services) == 0


async def test_a_read_while_another_read_of_the_unit_runs_gets_its_own_connection(
    services: Services, uow: UnitOfWork, backend: str
) -> None:
    """GraphQL resolves fields concurrently: two reads of one request at once must both work."""
    first_inside, first_may_finish = asyncio.Event(), asyncio.Event()

    async def first_read() -> int | None:
        async with uow.read() as conn:
            first_inside.set()
            await first_may_finish.wait()
            return await conn.scalar(select(1))

    first = asyncio.create_task(first_read())
    await first_inside.wait()
    async with uow.read() as conn:
        assert await conn.scalar(select(2)) == 2
        assert checked_out(services) == 2
    first_may_finish.set()
    assert await first == 1
    # The unit keeps its own connection (PostgreSQL); the extra one went back at once.
    assert checked_out(services) == (1 if backend == "postgresql" else 0)
    await uow.close()
    assert checked_out(services) == 0


async def _read_then_fail(uow: UnitOfWork) -> None:
    async with uow.read() as conn:
        await conn.execute(select(1))
        raise Boom


async def holds_nothing_then_reads_again(services: Services, uow: UnitOfWork) -> None:
    """What a failed or cancelled read must leave: no connection held, and a unit that works."""
    assert checked_out(services) == 0
    async with uow.read() as conn:
        assert await conn.scalar(select(3)) == 3
    await uow.close()
    assert checked_out(services) == 0


async def test_a_read_that_fails_gives_its_connection_back_and_the_unit_reads_again(
    services: Services,
    uow: UnitOfWork,
) -> None:
    with pytest.raises(Boom):
        await _read_then_fail(uow)
    await holds_nothing_then_reads_again(services, uow)


async def cancel_inside(
    block: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
    statement: Executable,
    while_inside: Callable[[], None] = lambda: None,
) -> None:
    """Runs `statement` in `block`, then cancels the task while it is still inside."""
    inside = asyncio.Event()

    async def run_until_cancelled() -> None:
        async with block() as conn:
            await conn.execute(statement)
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run_until_cancelled())
    await inside.wait()
    while_inside()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancelled_read_gives_its_connection_back(
    services: Services, uow: UnitOfWork
) -> None:
    await cancel_inside(uow.read, select(1), lambda: assert_checked_out(services, 1))
    await holds_nothing_then_reads_again(services, uow)


async def test_a_cancelled_write_rolls_back_and_gives_its_connection_back(
    services: Services,
    uow: UnitOfWork,
) -> None:
    await cancel_inside(uow.write, insert(tags).values(name="Cancelled", slug="cancelled"))
    assert checked_out(services) == 0
    await uow.close()
    assert await _tags_with_slug(services, "cancelled") == 0


async def test_a_write_gives_the_read_connection_back_first(
    services: Services, uow: UnitOfWork
) -> None:
    """A unit never holds two connections: a pool whose every connection is held by someone
    waiting for a second one would stop."""
    async with uow.read() as conn:
        await conn.execute(select(1))
    async with uow.write() as conn:
        assert checked_out(services) == 1
        await conn.execute(insert(tags).values(name="Written", slug="written"))
    assert checked_out(services) == 0
    await uow.close()


async def test_released_holds_no_connection_and_its_proof_ends_with_it(
    services: Services,
    uow: UnitOfWork,
) -> None:
    async with uow.read() as conn:
        await conn.execute(select(1))
    async with uow.released() as no_connection:
        assert checked_out(services) == 0
        digest = await services.hasher.hash(no_connection, "Correct-Horse-42")
        # Nothing of the unit's may take a connection inside the block.
        with pytest.raises(RuntimeError, match="inside released"):
            async with uow.read():
                pass
        with pytest.raises(RuntimeError, match="inside released"):
            async with uow.write():
                pass
    with pytest.raises(RuntimeError, match="outside the released"):
        await services.hasher.verify(no_connection, "Correct-Horse-42", digest)
    async with uow.read() as conn:  # after the block the unit reads again
        assert await conn.scalar(select(5)) == 5
    await uow.close()


async def test_released_refuses_to_start_inside_a_read_or_write_of_the_unit(
    services: Services,
    uow: UnitOfWork,
) -> None:
    async with uow.read():
        with pytest.raises(RuntimeError, match="inside a read or write"):
            async with uow.released():
                pass
    async with uow.write():
        with pytest.raises(RuntimeError, match="inside a read or write"):
            async with uow.released():
                pass
    await uow.close()
    assert checked_out(services) == 0
