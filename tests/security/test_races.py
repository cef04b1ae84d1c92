"""Races a hostile or merely impatient client can start: the outcome must be what a careful
serial execution would give, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from pressroom.auth.actor import Actor
from pressroom.auth.permissions import Role
from pressroom.db.tables import posts, profiles, tags, user_roles, users
from pressroom.db.units import UnitOfWork, unit_of_work
from pressroom.kit.errors import AuthenticationFailed, NotFound
from pressroom.posts.schemas import CreatePostRequest, UpdatePostRequest
from pressroom.services import Services
from pressroom.users.schemas import UpdateUserRequest
from tests.conftest import PASSWORD, People, Person
from tests.posts.factories import create_post

CONCURRENT_REQUESTS = 20


async def test_concurrent_refreshes_of_one_token_give_exactly_one_new_pair(
    author: Person, anon: httpx.AsyncClient
) -> None:
    replies = await asyncio.gather(
        *(
            anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
            for _ in range(CONCURRENT_REQUESTS)
        )
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [401] * (CONCURRENT_REQUESTS - 1)
    winner = next(r for r in replies if r.status_code == 200).json()
    # The losers were concurrent retries, not theft: the winner's family stays alive.
    me = await anon.get("/users/me", headers={"Authorization": f"Bearer {winner['accessToken']}"})
    assert me.status_code == 200, me.text
    again = await anon.post("/auth/refresh", json={"refreshToken": winner["refreshToken"]})
    assert again.status_code == 200, again.text


async def test_concurrent_sign_ups_with_one_email_create_one_account(
    anon: httpx.AsyncClient, services: Services
) -> None:
    # Letter case varies: the email is one account whatever its spelling.
    spellings = ["race@example.com", "Race@Example.com", "RACE@EXAMPLE.COM", "race@EXAMPLE.com"]
    replies = await asyncio.gather(
        *(
            anon.post(
                "/users",
                json={
                    "email": spellings[i % len(spellings)],
                    "password": PASSWORD,
                    "profile": {"firstName": "Race", "lastName": f"Runner{i}"},
                },
            )
            for i in range(CONCURRENT_REQUESTS)
        )
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [409] * (CONCURRENT_REQUESTS - 1), [r.text for r in replies]
    for reply in replies:
        if reply.status_code == 409:
            assert reply.json()["error"]["code"] == "CONFLICT"
    async with services.db.read() as conn:
        rows = await conn.scalar(
            select(func.count()).where(func.lower(users.c.email) == "race@example.com")
        )
    assert rows == 1


async def test_concurrent_posts_with_one_new_tag_create_one_tag(
    people: People, services: Services
) -> None:
    writers = [await people.make(Role.USER) for _ in range(4)]
    spellings = ["Brand New", "brand new", "BRAND NEW", "Brand  New"]
    replies = await asyncio.gather(
        *(
            writers[i % len(writers)].post(
                "/posts",
                json={
                    "title": f"Post {i}",
                    "content": "text",
                    "published": True,
                    "tags": [spellings[i % len(spellings)]],
                },
            )
            for i in range(CONCURRENT_REQUESTS)
        )
    )
    assert [r.status_code for r in replies] == [201] * CONCURRENT_REQUESTS, [
        r.text for r in replies if r.status_code != 201
    ]
    tag_ids = {tuple(t["id"] for t in r.json()["tags"]) for r in replies}
    async with services.db.read() as conn:
        slugs = (await conn.execute(select(tags.c.slug))).scalars().all()
    assert slugs == ["brand-new"]
    assert len(tag_ids) == 1


async def live_admin_count(services: Services) -> int:
    async with services.db.read() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(user_roles.join(users, users.c.id == user_roles.c.user_id))
            .where(user_roles.c.role == "admin", users.c.deleted_at.is_(None))
        )
    return int(count or 0)


AdminRace = Callable[[Person, Person], list[Awaitable[httpx.Response]]]
ROUNDS = 3


async def race_the_last_two_admins(
    people: People, services: Services, calls: AdminRace, loser_statuses: set[int]
) -> None:
    """Run `calls` at once between the only two admins, a few times; one admin must remain."""
    for _round in range(ROUNDS):
        first = await people.make(Role.ADMIN)
        second = await people.make(Role.ADMIN)
        replies = await asyncio.gather(*calls(first, second))
        winner, loser = sorted(r.status_code for r in replies)
        assert winner in {200, 204}, [r.text for r in replies]
        assert loser in loser_statuses, [r.text for r in replies]
        assert await live_admin_count(services) == 1
        await demote_everyone(services)


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    people: People, services: Services
) -> None:
    # The loser was demoted meanwhile (403: no longer a manager) or is the last admin (409).
    await race_the_last_two_admins(
        people,
        services,
        lambda a, b: [
            a.patch(f"/users/{b.id}", json={"roles": ["user"]}),
            b.patch(f"/users/{a.id}", json={"roles": ["user"]}),
        ],
        {403, 409},
    )


async def test_two_admins_deleting_each_other_at_once_leave_one_admin(
    people: People, services: Services
) -> None:
    # The loser was deleted meanwhile (401: session ended) or is the last admin (409).
    await race_the_last_two_admins(
        people,
        services,
        lambda a, b: [a.delete(f"/users/{b.id}"), b.delete(f"/users/{a.id}")],
        {401, 409},
    )


async def test_last_two_admins_deleting_themselves_at_once_leave_one_admin(
    people: People, services: Services
) -> None:
    await race_the_last_two_admins(
        people,
        services,
        lambda a, b: [a.delete(f"/users/{a.id}"), b.delete(f"/users/{b.id}")],
        {409},
    )


async def demote_everyone(services: Services) -> None:
    """Start the next round from zero admins, so it again races over the last two."""
    async with services.db.write() as conn:
        await conn.execute(user_roles.delete().where(user_roles.c.role == "admin"))


# Lost races: the request that loses gets the 4xx of the final state, never a 5xx, and nothing
# it began is left behind. Each interleaving is forced, in two ways:
#   - on both databases, by running the steps of two requests in the order the race gives
#     them: the loser's bearer token is checked first (as its request does on arrival), then
#     the winner's change commits, then the loser's service method runs its transaction;
#   - on PostgreSQL also inside the transaction: a second connection holds the winner's change
#     uncommitted, the loser's request starts and is seen waiting on that row's lock in
#     pg_stat_activity, then the winner commits. (SQLite runs one writer at a time, so no
#     write transaction interleaves with another there; the first way covers it.)

LOCK_WAIT_DEADLINE_SECONDS = 10


async def signed_in_actor(services: Services, person: Person) -> Actor:
    """The actor a request by `person` carries once its bearer token has been checked."""
    async with unit_of_work(services.db) as uow:
        return await services.auth.authenticate(uow, person.access_token)


async def post_count(services: Services) -> int:
    async with services.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(posts)) or 0)


def postgres_url(database_url: str) -> str:
    assert database_url.startswith("postgresql"), "mark the test postgres_only"
    return database_url


@asynccontextmanager
async def winner_uncommitted(database_url: str, *statements: str) -> AsyncIterator[Any]:
    """A second connection that has run `statements` in an open transaction; `commit()` ends it."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("BEGIN")
        for statement in statements:
            await conn.execute(statement)
        yield Winner(conn)
    finally:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.close()


class Winner:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")


async def wait_until_waiting_on_a_lock(database_url: str, request: asyncio.Task[Any]) -> None:
    """Return once some backend of this database waits on a lock; fail if `request` ends first
    (it did not wait for the winner's row at all) or nothing waits before the deadline."""
    watcher = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(LOCK_WAIT_DEADLINE_SECONDS):
            while True:
                waiting = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if waiting:
                    return
                if request.done():
                    reply = request.result()
                    pytest.fail(f"the request ran past the winner's row lock: {reply.text}")
                await asyncio.sleep(0.01)
    finally:
        await watcher.close()


async def test_a_post_by_an_author_deleted_after_their_token_was_checked_is_refused(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """POST /posts racing the author's own DELETE /users/me, the deletion committing between
    the token check and the insert: 401, as for any request whose account is gone, and no post
    stored. (It was a 500 with the post stored: the read-back after the insert found nothing.)"""
    actor = await signed_in_actor(services, author)
    await services.users.delete(uow, actor, author.id)
    data = CreatePostRequest.model_validate({"title": "Late", "content": "text", "tags": ["x"]})
    with pytest.raises(AuthenticationFailed):
        await services.posts.create(uow, actor, data)
    assert await post_count(services) == 0


@pytest.mark.postgres_only
async def test_a_post_waits_for_an_uncommitted_author_deletion_and_is_refused(
    author: Person, services: Services, database_url: str
) -> None:
    """The deletion is under way when the post's transaction starts: the insert must wait for
    it (the author's row is held, shared, by the post's transaction) and then see the account
    gone: 401 and nothing stored. Without the shared lock the insert did not wait at all (a
    foreign key's KEY SHARE lock does not conflict with an UPDATE of `deleted_at`)."""
    url = postgres_url(database_url)
    deleting = f"UPDATE users SET deleted_at = now() WHERE id = {author.id}"
    async with winner_uncommitted(url, deleting) as deletion:
        request = asyncio.create_task(
            author.post("/posts", json={"title": "Racing", "content": "text"})
        )
        await wait_until_waiting_on_a_lock(url, request)
        await deletion.commit()
        reply = await request
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "AUTHENTICATION_ERROR"
    assert await post_count(services) == 0


async def test_editing_a_post_deleted_after_the_token_check_is_404(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """PATCH racing DELETE of one post, the delete committing first: 404, the final state."""
    post = await create_post(author)
    actor = await signed_in_actor(services, author)
    await services.posts.delete(uow, actor, post["id"])
    with pytest.raises(NotFound):
        await services.posts.update(
            uow, actor, post["id"], UpdatePostRequest.model_validate({"title": "Too late"})
        )


@pytest.mark.postgres_only
async def test_an_edit_waiting_on_an_uncommitted_post_deletion_is_404(
    author: Person, services: Services, database_url: str
) -> None:
    """The delete is under way when the edit's transaction starts: the edit waits on the post's
    row, then finds it gone: 404, not the 500 of reading back a post that vanished between the
    edit's check and its write (2 in 40 PATCH/DELETE pairs before)."""
    url = postgres_url(database_url)
    post = await create_post(author, tags=["kept"])
    post_id = post["id"]
    async with winner_uncommitted(
        url,
        f"DELETE FROM post_tags WHERE post_id = {post_id}",
        f"DELETE FROM posts WHERE id = {post_id}",
    ) as deletion:
        request = asyncio.create_task(author.patch(f"/posts/{post_id}", json={"title": "New"}))
        await wait_until_waiting_on_a_lock(url, request)
        await deletion.commit()
        reply = await request
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == "NOT_FOUND"
    assert await post_count(services) == 0


@pytest.mark.postgres_only
async def test_deleting_a_post_twice_at_once_is_204_then_404(
    author: Person, services: Services, database_url: str
) -> None:
    """Two deletes of one post: the one that waits finds the post gone and says so."""
    url = postgres_url(database_url)
    post = await create_post(author)
    async with winner_uncommitted(url, f"DELETE FROM posts WHERE id = {post['id']}") as first:
        request = asyncio.create_task(author.delete(f"/posts/{post['id']}"))
        await wait_until_waiting_on_a_lock(url, request)
        await first.commit()
        reply = await request
    assert reply.status_code == 404, reply.text


async def test_changing_ones_own_account_after_deleting_it_is_401(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """PATCH /users/me racing DELETE /users/me, the delete first: the principal is gone, 401
    (it was 404, as if someone else's account had been asked for)."""
    actor = await signed_in_actor(services, author)
    await services.users.delete(uow, actor, author.id)
    changes = UpdateUserRequest.model_validate({"profile": {"bio": "late"}})
    with pytest.raises(AuthenticationFailed):
        await services.users.update(uow, actor, author.id, changes)
    with pytest.raises(AuthenticationFailed):
        await services.users.delete(uow, actor, author.id)


async def test_an_admin_deleted_meanwhile_changes_nobody(
    admin: Person, author: Person, services: Services, uow: UnitOfWork, people: People
) -> None:
    """An admin's request checked before their account was deleted: 401, nothing changed."""
    await people.make(Role.ADMIN)  # so the first admin is not the last one
    actor = await signed_in_actor(services, admin)
    await services.users.delete(uow, actor, admin.id)
    changes = UpdateUserRequest.model_validate({"profile": {"bio": "set by a ghost"}})
    with pytest.raises(AuthenticationFailed):
        await services.users.update(uow, actor, author.id, changes)
    async with services.db.read() as conn:
        bio = await conn.scalar(select(profiles.c.bio).where(profiles.c.user_id == author.id))
    assert bio is None


@pytest.mark.postgres_only
async def test_an_edit_of_a_user_deleted_meanwhile_is_404_and_undone(
    admin: Person, author: Person, services: Services, database_url: str
) -> None:
    """An admin edits a user whose deletion is under way: the edit's profile change goes
    through, its write to the user row waits, then the read-back finds the user gone: 404 and
    the profile change is rolled back with the rest (it was a 500 after committing)."""
    url = postgres_url(database_url)
    deleting = f"UPDATE users SET deleted_at = now() WHERE id = {author.id}"
    async with winner_uncommitted(url, deleting) as deletion:
        request = asyncio.create_task(
            admin.patch(f"/users/{author.id}", json={"profile": {"bio": "edited"}})
        )
        await wait_until_waiting_on_a_lock(url, request)
        await deletion.commit()
        reply = await request
    assert reply.status_code == 404, reply.text
    async with services.db.read() as conn:
        bio = await conn.scalar(select(profiles.c.bio).where(profiles.c.user_id == author.id))
    assert bio is None
