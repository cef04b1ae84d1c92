"""Hot reads on SQLite, straight on the standard library's `sqlite3`, in one hop.

Through SQLAlchemy and aiosqlite one read cost about 160 µs of CPU for a one-row statement
(an execution context, result processing, the greenlet hand-off, and four hops to aiosqlite's
thread and back: cursor, execute, fetch, close), where `sqlite3` itself spends 4 µs on it
(docs/performance.md). `SqliteReader` keeps one connection of its own on one dedicated thread per
`Database`; a whole read (statement, rows, conversion) runs there as one job, so it costs one
hop whatever its size. The statement is still a Core statement (`DirectQuery` compiles it once
for SQLite with the public `compile()`), so there is one schema and one query builder.

The reader's connection is read-only (`PRAGMA query_only`) and in autocommit: each statement
is its own snapshot of the last commit, and under WAL it never waits for a writer. A read inside
a write transaction must see that transaction's own changes, so it does not come here (see
`DirectQuery.all`). Errors arrive as SQLAlchemy's `DBAPIError`s, as from any other statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from pressroom.db.sqlite import SQLITE_BUSY_TIMEOUT_MS, TUNING_PRAGMAS, ensure_wal
from pressroom.db.types import UtcDateTime

T = TypeVar("T")
# (parameter name, its value when the caller gives none, bind processor)
_Slot = tuple[str, Any, Callable[[Any], Any] | None]
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[sqlite3.Connection], Any]]
# The reader of each SQLite engine a `Database` made, found from a connection of that engine.
_readers: weakref.WeakKeyDictionary[Engine, SqliteReader] = weakref.WeakKeyDictionary()


def register_reader(engine: Engine, reader: SqliteReader) -> None:
    _readers[engine] = reader


def reader_for(conn: AsyncConnection) -> SqliteReader | None:
    """The reader for a read on `conn`, or None where the read must run on `conn` itself:
    inside a transaction (a write's, or a read's snapshot that SQLAlchemy already began)."""
    if conn.in_transaction():
        return None
    return _readers.get(conn.engine.sync_engine)


class SqliteStatement:
    """One Core SELECT compiled once for SQLite: its SQL text with `?` parameters, how each
    value is bound, and how each column of a row is read back (the types' own processors)."""

    __slots__ = ("_keys", "_processors", "_slots", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError(f"an expanding parameter changes the SQL text per call: {compiled}")
        self.sql = compiled.string
        slots: list[_Slot] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            slots.append((name, bind.effective_value, process))
        self._slots = tuple(slots)
        columns = list(statement.selected_columns)
        # The names the rows carry are the SQL text's labels, as SQLAlchemy's and asyncpg's rows
        # do (two columns of one name are told apart there); read from the first cursor.
        self._keys: tuple[str, ...] | None = None
        self._processors = tuple(
            _utc_from_text
            if isinstance(column.type, UtcDateTime)
            else column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in columns
        )

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            params.get(name, default) if process is None else process(params.get(name, default))
            for name, default, process in self._slots
        ]

    def rows(self, conn: sqlite3.Connection, values: Sequence[Any]) -> list[dict[str, Any]]:
        """Runs on the reader's thread: the statement, and its rows as the types read them."""
        cursor = conn.execute(self.sql, values)
        if self._keys is None:
            self._keys = tuple(column[0] for column in cursor.description)
        keys, processors = self._keys, self._processors
        return [
            {
                key: value if process is None else process(value)
                for key, process, value in zip(keys, processors, raw, strict=True)
            }
            for raw in cursor.fetchall()
        ]


def _utc_from_text(value: str | None) -> datetime | None:
    """What `UtcDateTime` reads from SQLite's text, parsed in C: SQLAlchemy's processor runs a
    regular expression, a third of a page's conversion time. Its stored form, always with
    microseconds ("2026-12-04 18:34:16.608160"), is ISO 8601; tests/db check both agree."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


class SqliteReader:
    """One read-only connection on a thread of its own; `run` hands it a whole read."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, job: Callable[[sqlite3.Connection], T], sql: str) -> T:
        if self._thread is None:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, job))
        try:
            return await future
        except sqlite3.Error as error:
            raise sa_exc.DBAPIError.instance(
                sql, None, error, sqlite3.Error, hide_parameters=True
            ) from error

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="pressroom-sqlite-reader", daemon=True
                )
                self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit: every statement reads the latest commit
            check_same_thread=True,
            detect_types=0,  # the column types convert, as on SQLAlchemy's connections
        )
        ensure_wal(conn.cursor())
        for pragma in (*TUNING_PRAGMAS, "PRAGMA query_only=ON"):
            conn.execute(pragma)
        return conn

    def _serve(self) -> None:
        conn: sqlite3.Connection | None = None
        while (item := self._jobs.get()) is not None:
            loop, future, job = item
            try:
                if conn is None:
                    conn = self._connect()
                result = job(conn)
            except BaseException as error:  # handed to the awaiting task, whatever it is
                _settle(loop, future, error=error)
            else:
                _settle(loop, future, result=result)
        if conn is not None:
            conn.close()


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    def settle() -> None:
        if future.done():  # the awaiting task was cancelled meanwhile
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
        loop.call_soon_threadsafe(settle)
