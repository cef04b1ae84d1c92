"""Tags come into being with the posts that name them; one tag per name, whatever its case."""

from __future__ import annotations

import asyncio

import httpx

from pressroom.db.tables import tags
from pressroom.services import Services
from tests.conftest import Person
from tests.posts.factories import create_post


async def tag_rows(services: Services) -> list[tuple[str, str]]:
    async with services.db.read() as conn:
        rows = (await conn.execute(tags.select().order_by(tags.c.slug))).all()
    return [(row.name, row.slug) for row in rows]


async def test_unknown_tags_are_created_with_the_post(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    post = await create_post(author, tags=["Machine Learning", "Go"])
    assert [(t["name"], t["slug"]) for t in post["tags"]] == [
        ("Go", "go"),
        ("Machine Learning", "machine-learning"),
    ]
    assert await tag_rows(services) == [("Go", "go"), ("Machine Learning", "machine-learning")]
    tag = await anon.get("/tags/machine-learning")
    assert tag.json() == {
        "id": post["tags"][1]["id"],
        "name": "Machine Learning",
        "slug": "machine-learning",
        "postCount": 1,
    }


async def test_the_same_name_in_another_case_reuses_the_tag(
    author: Person, stranger: Person, services: Services
) -> None:
    first = await create_post(author, tags=["Python"])
    second = await create_post(stranger, tags=["PYTHON"])
    third = await create_post(author, tags=["python"])
    assert first["tags"] == second["tags"] == third["tags"]
    assert first["tags"][0]["name"] == "Python"
    assert await tag_rows(services) == [("Python", "python")]


async def test_repeating_a_tag_in_one_post_attaches_it_once(
    author: Person, services: Services
) -> None:
    post = await create_post(author, tags=["Rust", "rust", "RUST "])
    assert [t["name"] for t in post["tags"]] == ["Rust"]
    assert await tag_rows(services) == [("Rust", "rust")]


async def test_names_with_the_same_slug_share_a_tag(author: Person, services: Services) -> None:
    first = await create_post(author, tags=["Web Dev"])
    second = await create_post(author, tags=["web-dev"])
    assert first["tags"] == second["tags"]
    assert await tag_rows(services) == [("Web Dev", "web-dev")]


async def test_letters_of_any_script_make_a_slug(author: Person, anon: httpx.AsyncClient) -> None:
    post = await create_post(author, tags=["Café Crème", "日本語"])
    slugs = sorted(t["slug"] for t in post["tags"])
    assert slugs == sorted(["café-crème", "日本語"])
    for slug in slugs:
        assert (await anon.get(f"/tags/{slug}")).status_code == 200


async def test_concurrent_posts_with_the_same_new_tag_make_one_tag(
    people: object, author: Person, stranger: Person, moderator: Person, services: Services
) -> None:
    writers = [author, stranger, moderator] * 3
    replies = await asyncio.gather(
        *(
            person.post("/posts", json={"title": f"T{i}", "content": "C", "tags": ["Fresh"]})
            for i, person in enumerate(writers)
        )
    )
    assert [r.status_code for r in replies] == [201] * len(writers), [r.text for r in replies]
    assert len({r.json()["tags"][0]["id"] for r in replies}) == 1
    assert await tag_rows(services) == [("Fresh", "fresh")]


async def test_concurrent_posts_naming_new_tags_in_any_order_all_succeed(
    author: Person, stranger: Person, services: Services
) -> None:
    orders = [["alpha", "beta", "gamma"], ["gamma", "beta", "alpha"], ["beta", "gamma", "alpha"]]
    replies = await asyncio.gather(
        *(
            person.post("/posts", json={"title": "T", "content": "C", "tags": names})
            for names in orders
            for person in (author, stranger)
        )
    )
    assert [r.status_code for r in replies] == [201] * len(replies), [r.text for r in replies]
    assert [slug for _, slug in await tag_rows(services)] == ["alpha", "beta", "gamma"]
