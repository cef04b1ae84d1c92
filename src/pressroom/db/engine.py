"""The engine for a `DATABASE_URL`: its pool, and connections to read on or to write in.

The URL is read in `db/urls.py`, SQLite's connections set up in `db/sqlite.py`, turns at the
pool handed out in `db/turns.py`. Requests do not open connections here themselves: each door
opens a `UnitOfWork` (db/units.py) and services reach the database through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from pressroom.db.sqlite import BEGIN_IMMEDIATE, SQLITE_BUSY_TIMEOUT_MS, configure_sqlite
from pressroom.db.sqlite_direct import SqliteReader, register_reader
from pressroom.db.turns import Turns
from pressroom.db.urls import async_url


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        timeout_seconds: float = 5.0,
        command_timeout_seconds: float = 30.0,
    ) -> None:
        self.url = async_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.engine = self._create_engine(pool_size, timeout_seconds, command_timeout_seconds)
        # PostgreSQL connections are in autocommit mode unless a write asks for a transaction.
        # Reads need none: under READ COMMITTED each statement takes its own snapshot anyway,
        # so a read transaction bought no consistency, only two round trips (a third of a post
        # list's database time, see docs/performance.md). Making autocommit the connections'
        # own state, not a per-checkout option, also spares every read a switch there and back.
        # SQLite keeps its read transaction: there it does give one snapshot, at no round trip.
        self._writer = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="READ COMMITTED")
        )
        # SQLite's connections wait behind its one writer too, hence its longer pool timeout.
        self._turns = Turns(pool_size, timeout_seconds * (6 if self.is_sqlite else 1))
        # SQLite has one writer at a time; queueing writers here, not in SQLite's busy loop,
        # keeps "database is locked" away under many concurrent writers in one process.
        self._write_lock = asyncio.Lock()
        # SQLite's hot reads (`DirectQuery`) run on a reader thread of their own, one hop each.
        self._reader = self._create_reader()

    def _create_reader(self) -> SqliteReader | None:
        path = make_url(self.url).database if self.is_sqlite else None
        if not path or path == ":memory:" or path.startswith("file:"):
            return None  # an in-memory database is private to the connection that made it
        reader = SqliteReader(path)
        register_reader(self.engine.sync_engine, reader)
        return reader

    def _create_engine(
        self, pool_size: int, timeout_seconds: float, command_timeout_seconds: float
    ) -> AsyncEngine:
        if self.is_sqlite:
            engine = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=timeout_seconds * 6,  # see _turns
                hide_parameters=True,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                # The pool's own ROLLBACK at check-in was one more hop to aiosqlite's thread per
                # read, half the cost of a checkout (docs/performance.md). It is never needed:
                # the driver is in autocommit (db/sqlite.py), so a transaction is only ever one
                # SQLAlchemy began, and its Connection rolls that back itself when it closes.
                pool_reset_on_return=None,
            )
            configure_sqlite(engine)
            return engine
        engine = create_async_engine(
            self.url,
            pool_size=pool_size,
            # A fixed set of connections: overflow ones were closed as soon as they were given
            # back, so under load each worker opened a dozen PostgreSQL connections a second,
            # each a server process to fork and a driver to set up (docs/performance.md).
            # Requests beyond the pool wait their turn, up to `timeout_seconds`.
            max_overflow=0,
            pool_timeout=timeout_seconds,
            pool_pre_ping=False,
            isolation_level="AUTOCOMMIT",
            # Error messages must never carry bound values: emails, password hashes, tokens.
            hide_parameters=True,
            # Bounded waits everywhere: for a pooled connection, a new one, and each query.
            connect_args={"timeout": timeout_seconds, "command_timeout": command_timeout_seconds},
        )
        _discard_dead_connections(engine)
        return engine

    async def connect(self) -> AsyncConnection:
        """A pooled connection for reads (autocommit on PostgreSQL), after a turn at the pool;
        `disconnect` gives both back. A unit of work keeps one through a request's reads."""
        await self._turns.take()
        try:
            return await self.engine.connect()
        except BaseException:
            self._turns.give_back()
            raise

    async def disconnect(self, conn: AsyncConnection) -> None:
        try:
            await conn.close()
        finally:
            self._turns.give_back()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection of its own for the block. Requests read through their `UnitOfWork`
        (db/units.py); this is for what runs outside one: start-up checks, tests, scripts."""
        async with self._turns.held(), self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on a connection of its own, committed at the end of the block, rolled
        back on error. Requests write through their `UnitOfWork`, which gives its read connection
        back first."""
        if not self.is_sqlite:
            async with self._turns.held(), self._writer.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._turns.held(), self.engine.connect() as conn:
            immediate = await conn.execution_options(**{BEGIN_IMMEDIATE: True})
            async with immediate.begin():
                yield immediate

    async def dispose(self) -> None:
        if self._reader is not None:
            await asyncio.to_thread(self._reader.close)
        await self.engine.dispose()


def _discard_dead_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server (or the network) closed is replaced at checkout.

    asyncpg notices a closed socket without a round trip, so after an outage the first
    request gets a fresh connection instead of failing on a dead one; no pre-ping is needed.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise sa_exc.DisconnectionError("connection was closed while idle in the pool")
