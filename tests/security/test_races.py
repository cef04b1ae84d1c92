"""Races a hostile or merely impatient client can start: the outcome must be what a careful
serial execution would give, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select

from pressroom.auth.permissions import Role
from pressroom.db.tables import tags, user_roles, users
from pressroom.services import Services
from tests.conftest import PASSWORD, People, Person

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
