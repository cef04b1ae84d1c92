"""SQLite mode under concurrency: readers never wait for a writer (WAL), writers queue instead of
failing with "database is locked", and a read inside a write sees that write.

Each ordering is forced: a write transaction is held open (by the app, or by another connection
as another process would) until the read under test has returned, so a read that waited for the
writer would never return and the test would fail on its time limit, not pass by luck.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, event, func, insert, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

from pressroom.db import direct
from pressroom.db.direct import DirectQuery
from pressroom.db.engine import Database
from pressroom.db.migrate import migrate
from pressroom.db.sqlite_direct import SqliteStatement
from pressroom.db.tables import posts, tags
from pressroom.services import Services
from tests.conftest import Person

# Bounds a read that would wait for the writer: it would wait forever (the writer waits for it).
DEADLOCK_SECONDS = 10
_TAG_BY_SLUG = DirectQuery(select(tags.c.id, tags.c.name).where(tags.c.slug == bindparam("slug")))


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'pressroom.db'}"
    await asyncio.to_thread(migrate, url)
    db = Database(url)
    async with db.write() as conn:
        await conn.execute(insert(tags).values(name="Old", slug="old"))
    yield db
    await db.dispose()


async def read_both_ways(db: Database, slug: str) -> tuple[int, int]:
    """How many tags of `slug` the reader thread (a `DirectQuery`) and a SQLAlchemy read see;
    the direct statement listener proves the first took the reader's path."""
    sent: list[str] = []

    def on_direct(sql: str, _values: Any) -> None:
        sent.append(sql)

    direct.add_listener(on_direct)
    try:
        async with db.read() as conn:
            on_reader = len(await _TAG_BY_SLUG.all(conn, {"slug": slug}))
    finally:
        direct.remove_listener(on_direct)
    assert len(sent) == 1
    async with db.read() as conn:
        counted = await conn.scalar(select(func.count()).where(tags.c.slug == slug))
    return on_reader, int(counted or 0)


async def test_reads_complete_while_the_apps_write_transaction_is_open(
    sqlite_db: Database,
) -> None:
    written = asyncio.Event()
    release = asyncio.Event()

    async def long_write() -> None:
        async with sqlite_db.write() as conn:
            await conn.execute(insert(tags).values(name="New", slug="new"))
            written.set()
            await release.wait()  # the transaction stays open until the reads are done

    writer = asyncio.create_task(long_write())
    try:
        async with asyncio.timeout(DEADLOCK_SECONDS):
            await written.wait()
            # The last commit, not the open write: on both paths, with the writer still open.
            assert await read_both_ways(sqlite_db, "old") == (1, 1)
            assert await read_both_ways(sqlite_db, "new") == (0, 0)
            assert not writer.done()
    finally:
        release.set()
        await writer
    assert await read_both_ways(sqlite_db, "new") == (1, 1)


async def test_a_read_inside_a_write_sees_that_write(sqlite_db: Database) -> None:
    """The reader thread's connection cannot see an uncommitted write, so a `DirectQuery` run
    in a write transaction runs on the transaction's own connection."""
    async with sqlite_db.write() as conn:
        await conn.execute(insert(tags).values(name="Mine", slug="mine"))
        assert len(await _TAG_BY_SLUG.all(conn, {"slug": "mine"})) == 1


async def test_reads_go_on_while_another_process_holds_the_write_lock(
    sqlite_db: Database,
) -> None:
    path = sqlite_db.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO tags (name, slug) VALUES ('Theirs', 'theirs')")
        async with asyncio.timeout(DEADLOCK_SECONDS):
            assert await read_both_ways(sqlite_db, "old") == (1, 1)
            assert await read_both_ways(sqlite_db, "theirs") == (0, 0)
        other.execute("COMMIT")
    finally:
        other.close()
    assert await read_both_ways(sqlite_db, "theirs") == (1, 1)


async def test_the_apps_write_waits_while_another_process_holds_the_write_lock(
    sqlite_db: Database,
) -> None:
    """The app's BEGIN IMMEDIATE, started while another connection holds the write lock, waits
    for it (the busy timeout) instead of failing with "database is locked", and runs after it:
    its transaction sees the other's commit. SQLite's trace callback on the app's connection
    says when the BEGIN IMMEDIATE is inside SQLite, so the lock is released only after that."""
    path = sqlite_db.engine.url.database
    assert path is not None
    begun = threading.Event()

    def on_statement(sql: str) -> None:
        if sql.startswith("BEGIN IMMEDIATE"):
            begun.set()

    def trace(_dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        await_only(record.driver_connection.set_trace_callback(on_statement))

    async def app_write() -> int:
        async with sqlite_db.write() as conn:
            await conn.execute(insert(tags).values(name="Mine", slug="mine"))
            theirs = await conn.scalar(select(func.count()).where(tags.c.slug == "theirs"))
            return int(theirs or 0)

    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    event.listen(sqlite_db.engine.sync_engine, "checkout", trace)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO tags (name, slug) VALUES ('Theirs', 'theirs')")
        writer = asyncio.create_task(app_write())
        async with asyncio.timeout(DEADLOCK_SECONDS):
            await asyncio.to_thread(begun.wait)
        assert not writer.done()  # it is waiting for the lock, not failed
        other.execute("COMMIT")
        async with asyncio.timeout(DEADLOCK_SECONDS):
            assert await writer == 1
    finally:
        event.remove(sqlite_db.engine.sync_engine, "checkout", trace)
        other.close()
    assert await read_both_ways(sqlite_db, "mine") == (1, 1)


async def test_64_concurrent_writers_all_succeed_while_readers_read(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    async def write(n: int) -> httpx.Response:
        body = {"title": f"Post {n}", "content": "Body", "published": True}
        return await author.post("/posts", json=body)

    replies = await asyncio.gather(
        *(write(n) for n in range(64)), *(anon.get("/posts") for _ in range(16))
    )
    assert [reply.status_code for reply in replies[:64]] == [201] * 64, [
        reply.text for reply in replies if reply.status_code >= 300
    ]
    assert all(reply.status_code == 200 for reply in replies[64:])
    async with services.db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(posts)) == 64


def test_the_readers_datetimes_are_sqlalchemys() -> None:
    """The reader parses stored timestamps itself (in C); SQLAlchemy's processor is the rule."""
    dialect = sqlite_dialect.dialect()
    statement = SqliteStatement(select(posts.c.created_at).order_by(posts.c.id), dialect)
    sqlalchemys = posts.c.created_at.type.dialect_impl(dialect).result_processor(dialect, None)
    assert sqlalchemys is not None
    stored = ["2026-12-04 18:34:16.608160", "2024-02-29 00:00:00.000000", None]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, created_at TEXT)")
    conn.executemany("INSERT INTO posts (created_at) VALUES (?)", [(at,) for at in stored])
    read = [row["created_at"] for row in statement.rows(conn, [])]
    assert read == [sqlalchemys(at) for at in stored]
    assert read[0] == datetime(2026, 12, 4, 18, 34, 16, 608160, tzinfo=UTC)
