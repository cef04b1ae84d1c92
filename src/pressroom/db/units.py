"""Units of work: what a door (REST, GraphQL, the CLI) opens per request or command and passes
down to the services, the only way a service reaches the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.engine import Database
from pressroom.kit.passwords import NoConnectionHeld


class UnitOfWork:
    """One request's (or one command's) access to the database, in three kinds:

    - `async with uow.read() as conn:` reads, with no transaction. On PostgreSQL every read of
      the unit runs on one pooled connection, checked out (after a fair turn at the pool) by
      the first read and kept until the unit closes: the session check and the service's read
      cost one checkout, not two. A read that starts while another read of the same unit is
      still running (GraphQL resolves fields concurrently) gets a connection of its own for
      its block. On SQLite each read has a connection of its own and, on it, one snapshot.
    - `async with uow.write() as conn:` one transaction, committed when the block ends and
      rolled back when it raises. The unit gives its read connection back first, so a unit never
      holds two connections at once: with every connection held by someone waiting for a
      second one, nobody would move. On SQLite writers queue in the process (BEGIN IMMEDIATE).
    - `async with uow.released() as no_connection:` slow work that needs no database (a password
      hash: 20 ms and more of a thread). The read connection goes back to the pool first, and
      the block's `NoConnectionHeld` is what `PasswordHasher` demands: hashing without one does
      not type-check, and inside a read or write of the unit `released()` refuses to start.
      Held through sign-ins, a pool's connections went to requests waiting for the hashing
      thread while every other request waited for them (docs/design.md).

    The door closes the unit when its request ends, and that gives the read connection back.
    A read that fails or is cancelled gives the connection back at once: whatever broke may
    have left it unusable. Services take the unit as a parameter of each method and never keep
    it: what a method does with the database is in its signature.
    """

    __slots__ = ("_db", "_lease", "_lease_in_use", "_open", "_released")

    def __init__(self, db: Database) -> None:
        self._db = db
        # PostgreSQL: the connection this unit's reads take turns on, once the first read asked.
        self._lease: AsyncConnection | None = None
        self._lease_in_use = False
        self._open = 0  # reads and writes of this unit under way
        self._released = False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        self._refuse_while_released()
        self._open += 1
        try:
            # SQLite's connections are in-process and each read keeps a snapshot: nothing to share.
            if self._db.is_sqlite or self._lease_in_use:
                async with self._db.read() as conn:
                    yield conn
                return
            self._lease_in_use = True
            try:
                if self._lease is None:
                    self._lease = await self._db.connect()
                yield self._lease
            except BaseException:
                await self._give_back()
                raise
            finally:
                self._lease_in_use = False
        finally:
            self._open -= 1

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        self._refuse_while_released()
        if not self._lease_in_use:
            await self._give_back()
        self._open += 1
        try:
            async with self._db.write() as conn:
                yield conn
        finally:
            self._open -= 1

    @asynccontextmanager
    async def released(self) -> AsyncIterator[NoConnectionHeld]:
        if self._open:
            raise RuntimeError(
                "released() inside a read or write of the same unit: the connection would be "
                "held through the slow work"
            )
        self._refuse_while_released()
        await self._give_back()
        proof = NoConnectionHeld()
        self._released = True
        try:
            yield proof
        finally:
            self._released = False
            proof.end()

    async def close(self) -> None:
        """Gives the read connection back; the door calls it when its request ends."""
        await self._give_back()

    async def _give_back(self) -> None:
        conn, self._lease = self._lease, None
        if conn is not None:
            await self._db.disconnect(conn)

    def _refuse_while_released(self) -> None:
        if self._released:
            raise RuntimeError("a read or write inside released(): no connection is to be held")


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[UnitOfWork]:
    """A unit for one command or job, closed when the block ends, however it ends."""
    uow = UnitOfWork(db)
    try:
        yield uow
    finally:
        await uow.close()
