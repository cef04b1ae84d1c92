"""Hot reads on PostgreSQL, straight on the driver: a SELECT built with Core, compiled once.

Running a prebuilt statement through SQLAlchemy costs two to three times asyncpg's own `fetch`
on the same connection (execution context, result processing, the greenlet hand-off; measured
in docs/performance.md), and the session check, one post, one user and a page of posts run on
nearly every request. `DirectQuery` keeps the statement a Core statement, so there is still one
schema and one query builder, and only changes who executes it: on PostgreSQL the SQL text
SQLAlchemy compiled is sent by asyncpg itself; elsewhere it runs through SQLAlchemy as usual.

Only public APIs on both sides: the statement is compiled once with `compile(dialect=...)`,
its `$n` parameters named by `positiontup` and converted by each type's `bind_processor`, and
run with asyncpg's `fetch`. So the SQL text must be the same for every call: lists are bound as
one array (`= ANY(:ids)`), never as an expanding `IN`, which SQLAlchemy renders per call (such
a statement is refused when first run). Driver errors arrive as SQLAlchemy's `DBAPIError`s, so
the error handlers answer 400 or 503 exactly as for any other statement, and a lost connection
is invalidated. Statement listeners (`add_listener`) see each statement sent.

On SQLite the `elsewhere` statement runs the same way on the process's reader thread and its
own `sqlite3` connection (db/sqlite_direct.py), one hop for the whole read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from pressroom.db.sqlite_direct import SqliteStatement, reader_for

# A row by column name: asyncpg's Record here, SQLAlchemy's RowMapping on other databases.
ResultRow = Mapping[Any, Any]
# Called with the SQL text and its values just before the driver sends them.
Listener = Callable[[str, Sequence[Any]], None]
# (parameter name, its value when the caller gives none, bind processor)
_Slot = tuple[str, Any, Callable[[Any], Any] | None]
_listeners: list[Listener] = []
# The server or the network ended the connection (SQLSTATE classes 08 and 57P0x, a closed
# socket, a timed-out read): the connection is dropped from the pool, the request gets a 503.
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    OSError,
    TimeoutError,
)


def add_listener(listener: Listener) -> None:
    """`listener` sees each statement sent by a `DirectQuery` (what SQLAlchemy's
    `before_cursor_execute` is for the statements it runs itself)."""
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    _listeners.remove(listener)


class DirectQuery:
    def __init__(self, statement: Select[Any], *, elsewhere: Select[Any] | None = None) -> None:
        """`statement` runs on PostgreSQL; `elsewhere` (by default the same) on other
        databases, for statements whose PostgreSQL form uses what only PostgreSQL has."""
        self.statement = statement
        self.elsewhere = statement if elsewhere is None else elsewhere
        self._prepared: tuple[str, tuple[_Slot, ...]] | None = None
        # Compiled for the SQLite reader on first use; None when the statement cannot run there.
        self._on_sqlite: SqliteStatement | None = None
        self._sqlite_refused = False

    async def all(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[ResultRow]:
        if conn.dialect.name != "postgresql":
            reader = reader_for(conn) if conn.dialect.name == "sqlite" else None
            statement = None if reader is None else self._sqlite_statement(conn.dialect)
            if reader is not None and statement is not None:
                values = statement.values(params)
                for listener in _listeners:
                    listener(statement.sql, values)
                return await reader.run(lambda db: statement.rows(db, values), statement.sql)
            result = await conn.execute(self.elsewhere, dict(params))
            rows: Sequence[ResultRow] = result.mappings().all()
            return rows
        sql, slots = self._prepared or self._prepare(conn.dialect)
        values = [
            params.get(name, default) if process is None else process(params.get(name, default))
            for name, default, process in slots
        ]
        for listener in _listeners:
            listener(sql, values)
        driver: asyncpg.Connection = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        try:
            return cast(Sequence[ResultRow], await driver.fetch(sql, *values))
        except _CONNECTION_LOST as error:
            raise await _connection_lost(conn, sql, error) from error
        except asyncpg.InterfaceError as error:
            if driver.is_closed():
                raise await _connection_lost(conn, sql, error) from error
            raise sa_exc.DBAPIError(sql, None, error, hide_parameters=True) from error
        except asyncpg.PostgresError as error:
            # Its SQLSTATE rides along: class 22 (a value the database or the driver refuses,
            # such as a NUL in text) is answered with a 400 by the error handlers.
            raise sa_exc.DBAPIError(sql, None, error, hide_parameters=True) from error

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any]) -> ResultRow | None:
        rows = await self.all(conn, params)
        return rows[0] if rows else None

    def _sqlite_statement(self, dialect: Dialect) -> SqliteStatement | None:
        if self._on_sqlite is None and not self._sqlite_refused:
            try:
                self._on_sqlite = SqliteStatement(self.elsewhere, dialect)
            except ValueError:  # an expanding IN: SQLAlchemy renders it per call
                self._sqlite_refused = True
        return self._on_sqlite

    def _prepare(self, dialect: Dialect) -> tuple[str, tuple[_Slot, ...]]:
        compiled = self.statement.compile(dialect=dialect)
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise ValueError(
                "a DirectQuery runs one SQL text for every call: bind a list as an array "
                "(`column == any_(bindparam(...))`), not as an expanding IN, and write a "
                f"constant as SQL text (`literal_column`), not a literal-execute value: {sql}"
            )
        slots: list[_Slot] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            slots.append((name, bind.effective_value, process))
        self._prepared = sql, tuple(slots)
        return self._prepared


async def _connection_lost(
    conn: AsyncConnection, sql: str, error: Exception
) -> sa_exc.OperationalError:
    await conn.invalidate(error)
    return sa_exc.OperationalError(
        sql, None, error, hide_parameters=True, connection_invalidated=True
    )
