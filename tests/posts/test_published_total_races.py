"""The published list's kept total stays equal to a real count when a post changes while its
author is being deleted or restored, in either order, on PostgreSQL (SQLite has one writer at a
time, so there is no interleaving to force there).

Each race runs on two connections with the order forced: the first change runs in an open
transaction, the second is sent and allowed to run until it either finishes or waits on a lock
(seen in pg_stat_activity), then the first commits, then the second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from pressroom.services import Services
from tests.conftest import People

KEPT_TOTAL = "SELECT coalesce(sum(posts), 0) FROM published_post_total"
REAL_TOTAL = (
    "SELECT count(*) FROM posts JOIN users ON users.id = posts.user_id"
    " WHERE posts.published AND users.deleted_at IS NULL"
)
NEW_POST = (
    "INSERT INTO posts (user_id, title, content, published, published_at, created_at, updated_at)"
    " VALUES ($1, 't', 'c', $2, CASE WHEN $2 THEN now() END, now(), now()) RETURNING id"
)


# SQLite has one writer at a time, so these interleavings exist only on PostgreSQL.
pytestmark = pytest.mark.postgres_only


@pytest.fixture
def postgres_url(database_url: str, backend: str, services: Services) -> str:
    """The test's PostgreSQL database, emptied by the `services` fixture."""
    assert backend == "postgresql", "SQLite has one writer at a time: no interleaving to force"
    return database_url


@pytest.fixture
async def connections(postgres_url: str) -> AsyncIterator[tuple[asyncpg.Connection, ...]]:
    """Two connections that race, and a third that watches them."""
    opened = [await asyncpg.connect(postgres_url) for _ in range(3)]
    try:
        yield tuple(opened)
    finally:
        for conn in opened:
            await conn.close()


async def kept_and_real(conn: asyncpg.Connection) -> tuple[int, int]:
    return int(await conn.fetchval(KEPT_TOTAL)), int(await conn.fetchval(REAL_TOTAL))


async def finished_or_waiting(
    watcher: asyncpg.Connection, pid: int, statement: asyncio.Task[object]
) -> bool:
    """Waits until `statement` (running on backend `pid`) has finished or waits on a lock;
    True when it waits."""
    async with asyncio.timeout(10):
        while not statement.done():
            waiting = await watcher.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            )
            if waiting:
                return True
            await asyncio.sleep(0.005)
    return False


async def race(
    watcher: asyncpg.Connection,
    first: tuple[asyncpg.Connection, str, tuple[object, ...]],
    second: tuple[asyncpg.Connection, str, tuple[object, ...]],
) -> bool:
    """`first` runs in a transaction; `second` runs in another until it finishes or waits; then
    `first` commits, then `second`. True when `second` had to wait for `first`."""
    first_conn, first_sql, first_args = first
    second_conn, second_sql, second_args = second
    await first_conn.execute("BEGIN")
    await first_conn.execute(first_sql, *first_args)
    await second_conn.execute("BEGIN")
    pending = asyncio.ensure_future(second_conn.execute(second_sql, *second_args))
    try:
        waited = await finished_or_waiting(watcher, second_conn.get_server_pid(), pending)
        await first_conn.execute("COMMIT")
        await pending
        await second_conn.execute("COMMIT")
    finally:
        pending.cancel()
    return waited


@dataclass
class Scene:
    author: int  # whose deletion or restoration races the post change
    other: int  # a second live author
    post: int | None  # the post that changes (None when the change creates it)


# A post change: (statement, its arguments given the scene); the post's state before it.
PostChange = Callable[[Scene], tuple[str, tuple[object, ...]]]
POST_CHANGES: dict[str, tuple[str, PostChange]] = {
    "unpublish": (
        "published",
        lambda s: ("UPDATE posts SET published = false WHERE id = $1", (s.post,)),
    ),
    "delete": ("published", lambda s: ("DELETE FROM posts WHERE id = $1", (s.post,))),
    "publish": (
        "draft",
        lambda s: ("UPDATE posts SET published = true WHERE id = $1", (s.post,)),
    ),
    "create": ("none", lambda s: (NEW_POST, (s.author, True))),
    "hand over to the author": (
        "published by the other",
        lambda s: ("UPDATE posts SET user_id = $1 WHERE id = $2", (s.author, s.post)),
    ),
    "take from the author": (
        "published",
        lambda s: ("UPDATE posts SET user_id = $1 WHERE id = $2", (s.other, s.post)),
    ),
}
# The author's change, and whether the author starts deleted.
AUTHOR_CHANGES = {
    "deletion": ("UPDATE users SET deleted_at = now() WHERE id = $1", False),
    "restoration": ("UPDATE users SET deleted_at = NULL WHERE id = $1", True),
}


async def set_scene(
    conn: asyncpg.Connection, people: People, post_state: str, author_deleted: bool
) -> Scene:
    author = (await people.make()).id
    other = (await people.make()).id
    # Published posts of both authors in several slots, so a wrong count shows in any of them.
    for _ in range(3):
        await conn.fetchval(NEW_POST, author, True)
        await conn.fetchval(NEW_POST, other, True)
    await conn.fetchval(NEW_POST, author, False)
    post: int | None = None
    if post_state != "none":
        owner = other if post_state == "published by the other" else author
        post = await conn.fetchval(NEW_POST, owner, post_state != "draft")
    if author_deleted:
        await conn.execute("UPDATE users SET deleted_at = now() WHERE id = $1", author)
    kept, real = await kept_and_real(conn)
    assert kept == real, "the scene itself must start true"
    return Scene(author, other, post)


@pytest.mark.parametrize("post_first", [True, False], ids=["post-first", "author-first"])
@pytest.mark.parametrize("author_change", list(AUTHOR_CHANGES))
@pytest.mark.parametrize("post_change", list(POST_CHANGES))
async def test_a_post_change_racing_its_authors_deletion_or_restoration_keeps_the_total(
    connections: tuple[asyncpg.Connection, ...],
    people: People,
    post_change: str,
    author_change: str,
    post_first: bool,
) -> None:
    posts_conn, users_conn, watcher = connections
    post_state, change = POST_CHANGES[post_change]
    author_sql, deleted_before = AUTHOR_CHANGES[author_change]
    scene = await set_scene(watcher, people, post_state, author_deleted=deleted_before)
    post_sql, post_args = change(scene)
    on_post = (posts_conn, post_sql, post_args)
    on_author = (users_conn, author_sql, (scene.author,))

    if post_first:
        waited = await race(watcher, on_post, on_author)
    else:
        waited = await race(watcher, on_author, on_post)

    kept, real = await kept_and_real(watcher)
    assert kept == real, (post_change, author_change, post_first, waited)
    # Every one of these changes depends on the author's row, so whichever comes second waits.
    assert waited


async def test_the_reported_race_unpublish_then_delete_the_author(
    connections: tuple[asyncpg.Connection, ...], people: People, anon: httpx.AsyncClient
) -> None:
    """Issue 10's reproduction as written: the author's deletion waits for the unpublishing
    transaction and then must not subtract the post a second time."""
    posts_conn, users_conn, watcher = connections
    scene = await set_scene(watcher, people, "published", author_deleted=False)
    before, _ = await kept_and_real(watcher)
    waited = await race(
        watcher,
        (posts_conn, "UPDATE posts SET published = false WHERE id = $1", (scene.post,)),
        (users_conn, "UPDATE users SET deleted_at = now() WHERE id = $1", (scene.author,)),
    )
    assert waited, "the deletion must wait for the post change to commit"
    kept, real = await kept_and_real(watcher)
    # The author had 4 published posts (3 and the one unpublished): 4 leave the list, not 5.
    assert real == before - 4
    assert kept == real
    listed = await anon.get("/posts", params={"limit": 100})
    assert listed.json()["pagination"]["total"] == len(listed.json()["data"]) == real
