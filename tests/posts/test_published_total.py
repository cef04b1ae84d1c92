"""The published list's total is kept by the database (migration 0004) rather than counted on
each request; it must match a real count after everything that moves a post in or out."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from pressroom.services import Services
from tests.conftest import People, Person

_REAL_COUNT = text(
    "SELECT count(*) FROM posts JOIN users ON users.id = posts.user_id"
    " WHERE posts.published = :yes AND users.deleted_at IS NULL"
)


async def _totals(services: Services, anon: httpx.AsyncClient) -> tuple[int, int]:
    listed = await anon.get("/posts", params={"limit": 1})
    assert listed.status_code == 200
    async with services.db.read() as conn:
        real = await conn.scalar(_REAL_COUNT, {"yes": True})
    return listed.json()["pagination"]["total"], int(real or 0)


async def _create(person: Person, title: str, *, published: bool) -> int:
    reply = await person.post(
        "/posts", json={"title": title, "content": "x", "published": published}
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def test_the_total_follows_every_change_to_the_list(
    services: Services, anon: httpx.AsyncClient, people: People, author: Person, admin: Person
) -> None:
    other = await people.make()
    steps: list[tuple[str, int]] = []

    async def check(step: str, expected: int) -> None:
        listed, real = await _totals(services, anon)
        steps.append((step, listed))
        assert listed == real == expected, steps

    await check("empty", 0)
    first = await _create(author, "first", published=True)
    draft = await _create(author, "draft", published=False)
    await check("one published, one draft", 1)
    assert (await author.patch(f"/posts/{draft}", json={"published": True})).status_code == 200
    await check("draft published", 2)
    assert (await author.patch(f"/posts/{draft}", json={"title": "renamed"})).status_code == 200
    await check("published post edited", 2)
    assert (await author.patch(f"/posts/{first}", json={"published": False})).status_code == 200
    await check("first unpublished", 1)
    for number in range(3):
        await _create(other, f"other {number}", published=True)
    await _create(other, "other draft", published=False)
    await check("another author's posts", 4)
    assert (await admin.delete(f"/users/{other.id}")).status_code == 204
    await check("that author deleted", 1)
    assert (await author.delete(f"/posts/{draft}")).status_code == 204
    await check("the published post deleted", 0)
    assert (await author.delete(f"/posts/{first}")).status_code == 204
    await check("the draft deleted", 0)


async def test_a_page_past_the_end_still_tells_the_total(
    anon: httpx.AsyncClient, author: Person
) -> None:
    for number in range(3):
        await _create(author, f"post {number}", published=True)
    reply = await anon.get("/posts", params={"page": 5, "limit": 2})
    assert reply.status_code == 200
    assert reply.json()["data"] == []
    assert reply.json()["pagination"]["total"] == 3
    assert reply.json()["pagination"]["totalPages"] == 2


# The slots whose kept count differs from the rows they count.
SLOTS_OFF = text(
    "SELECT slot, posts FROM published_post_total WHERE posts <> ("
    " SELECT count(*) FROM posts JOIN users ON users.id = posts.user_id"
    " WHERE posts.published = :yes AND users.deleted_at IS NULL"
    " AND posts.id % 16 = published_post_total.slot)"
)


async def test_hand_written_sql_keeps_every_slot_true(
    services: Services, anon: httpx.AsyncClient, people: People
) -> None:
    """What no endpoint does but an operator's SQL may: a post's id changed, a soft-deleted and
    a live author removed for good (their posts go with them by cascade)."""
    live, soft_deleted, staying = [await people.make() for _ in range(3)]
    for person in (live, soft_deleted, staying):
        for number in range(3):
            await _create(person, f"post {number}", published=True)
    async with services.db.write() as conn:
        await conn.execute(
            text("UPDATE users SET deleted_at = updated_at WHERE id = :id"),
            {"id": soft_deleted.id},
        )
        await conn.execute(
            text("UPDATE posts SET id = id + 1000 WHERE user_id = :id"), {"id": staying.id}
        )
        await conn.execute(
            text("DELETE FROM users WHERE id IN (:a, :b)"), {"a": live.id, "b": soft_deleted.id}
        )
    async with services.db.read() as conn:
        assert (await conn.execute(SLOTS_OFF, {"yes": True})).all() == []
    assert await _totals(services, anon) == (3, 3)
