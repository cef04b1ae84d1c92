"""SQLite's connections: WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for writers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The execution option a writer's connection sets to begin with BEGIN IMMEDIATE.
BEGIN_IMMEDIATE = "pressroom_begin_immediate"
# Every connection, the reader's (db/sqlite_direct.py) and SQLAlchemy's. Measured in
# docs/performance.md ("SQLite mode"):
# - WAL (set by `ensure_wal`): readers never wait for the writer, nor it for them.
# - synchronous=NORMAL: under WAL a commit does not wait for fsync (only checkpoints do); a
#   power cut can lose the last commits but never corrupts the file. FULL fsyncs every commit.
# - cache_size=-65536 (64 MiB a connection, allocated as used, not up front): the default 2 MiB
#   holds a tenth of the demo data, and pages read again are then parsed again from the OS.
# - mmap_size=256 MiB: pages are read from the OS page cache without a copy through read().
# - temp_store=MEMORY: sorts and temporary b-trees that spill (a list sorted by lower(title))
#   stay off the disk.
TUNING_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA mmap_size=268435456",
    "PRAGMA temp_store=MEMORY",
)


def ensure_wal(cursor: Any) -> None:
    """WAL once for the file (it is a property of the file, kept across connections). Setting it
    again is not free: `PRAGMA journal_mode=WAL` waits for a writer of another process to
    finish, so a connection opened during a long write would stall for the busy timeout."""
    cursor.execute("PRAGMA journal_mode")
    (mode,) = cursor.fetchone()
    if str(mode).lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")


def configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so writers can take BEGIN IMMEDIATE and
        # never fail on a read-to-write lock upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        ensure_wal(cursor)
        for pragma in TUNING_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(BEGIN_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
