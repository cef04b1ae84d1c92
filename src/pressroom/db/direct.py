"""Hot reads on PostgreSQL, straight on the driver: a SELECT built with Core, compiled once.

Running a prebuilt statement through SQLAlchemy costs two to three times asyncpg's own `fetch`
on the same connection (execution context, result processing, the greenlet hand-off; measured
in docs/performance.md), and the session check, the post list and the tags of posts run on
nearly every request. `DirectQuery` keeps the statement a Core statement, so there is still one
schema and one query builder, and only changes who executes it: on PostgreSQL the SQL text
SQLAlchemy compiled is sent by asyncpg itself; on SQLite it runs through SQLAlchemy as usual.

What SQLAlchemy did around a statement is kept: bind processors, expanding `IN` parameters
and literal-execute values are rendered by SQLAlchemy's own compiler (once per shape), listeners
of `before_cursor_execute` still see each statement, and driver errors arrive as SQLAlchemy's
`DBAPIError`s, so the error handlers answer 400 or 503 exactly as for any other statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

# A row by column name: asyncpg's Record here, SQLAlchemy's RowMapping on other databases.
ResultRow = Mapping[Any, Any]
# (parameter name, index into its list for an expanded `IN`, bind processor)
_Slot = tuple[str, int | None, Callable[[Any], Any] | None]
# Shapes are few (the lengths of `IN` lists, at most a page's 100 ids), but come from clients.
MAX_SHAPES = 256
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


class DirectQuery:
    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: SQLCompiler | None = None
        self._expanding: tuple[str, ...] = ()
        self._shapes: dict[tuple[int, ...], tuple[str, tuple[_Slot, ...]]] = {}

    async def all(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[ResultRow]:
        if conn.dialect.name != "postgresql":
            result = await conn.execute(self.statement, dict(params))
            return [row._mapping for row in result]
        sql, slots = self._shape(conn.dialect, params)
        values = [
            (params[name] if index is None else params[name][index])
            if process is None
            else process(params[name] if index is None else params[name][index])
            for name, index, process in slots
        ]
        sync = conn.sync_connection
        assert sync is not None
        if sync.dispatch.before_cursor_execute:
            sync.dispatch.before_cursor_execute(sync, None, sql, tuple(values), None, False)
        driver: asyncpg.Connection = sync.connection.driver_connection
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

    def _shape(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, tuple[_Slot, ...]]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = self.statement.compile(dialect=dialect)
            self._expanding = tuple(name for name, bind in compiled.binds.items() if bind.expanding)
        key = tuple(len(params[name]) for name in self._expanding)
        found = self._shapes.get(key)
        if found is not None:
            return found
        # SQLAlchemy's own step from compiled SQL to the text sent for these parameters: it
        # renders literal-execute values and gives each member of an `IN` list its own `$n`.
        # No public name for this step (pinned to SQLAlchemy <2.2 in pyproject.toml for it).
        expanded = compiled._process_parameters_for_postcompile(  # noqa: SLF001
            compiled.construct_params(dict(params), _check=False)
        )
        origin = {
            member: (name, index)
            for name, members in expanded.parameter_expansion.items()
            for index, member in enumerate(members)
        }
        processors = expanded.processors
        slots: list[_Slot] = []
        for position in expanded.positiontup or ():
            name, index = origin.get(position, (position, None))
            slots.append((name, index, processors.get(position)))
        shape = (expanded.statement, tuple(slots))
        if len(self._shapes) < MAX_SHAPES:
            self._shapes[key] = shape
        return shape


async def _connection_lost(
    conn: AsyncConnection, sql: str, error: Exception
) -> sa_exc.OperationalError:
    await conn.invalidate(error)
    return sa_exc.OperationalError(
        sql, None, error, hide_parameters=True, connection_invalidated=True
    )
