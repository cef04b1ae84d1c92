"""?page&limit&sort on REST collections: validated (400, never clamped), totals right, and pages
that neither repeat nor skip rows when many rows share a sort value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pressroom.db.tables import posts
from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids

COLLECTIONS = ["/posts", "/tags", "/users/{user}/posts", "/tags/{tag}/posts"]


def collection(template: str, author: Person) -> str:
    return template.format(user=author.id, tag="shared")


async def walk(caller: Any, url: str, limit: int, **params: str) -> list[list[int]]:
    """Every page of a collection, in order."""
    pages: list[list[int]] = []
    page = 1
    while True:
        reply = await caller.get(url, params={"page": page, "limit": limit, **params})
        assert reply.status_code == 200, reply.text
        pagination = reply.json()["pagination"]
        pages.append([item["id"] for item in reply.json()["data"]])
        if page >= pagination["totalPages"]:
            return pages
        page += 1


OUT_OF_RANGE = [
    ("page", "0"),
    ("page", "-1"),
    ("page", "abc"),
    ("page", "1.5"),
    ("page", ""),
    ("limit", "0"),
    ("limit", "101"),
    ("limit", "-1"),
    ("limit", "abc"),
    ("limit", "1000000"),
]


@pytest.mark.parametrize("template", COLLECTIONS)
async def test_page_and_limit_out_of_range_are_400_not_clamped(
    author: Person, anon: httpx.AsyncClient, template: str
) -> None:
    await create_post(author, tags=["shared"])
    for name, value in OUT_OF_RANGE:
        reply = await anon.get(collection(template, author), params={name: value})
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert set(error["details"]) == {name}, (name, value)


async def test_limits_at_the_bounds_are_accepted(author: Person, anon: httpx.AsyncClient) -> None:
    await create_post(author)
    for limit in (1, 100):
        reply = await anon.get("/posts", params={"limit": limit})
        assert reply.json()["pagination"]["limit"] == limit


async def test_total_pages_are_right(author: Person, anon: httpx.AsyncClient) -> None:
    made = 0
    for count, limit, pages in [(0, 20, 0), (1, 20, 1), (7, 3, 3), (20, 20, 1), (21, 20, 2)]:
        while made < count:
            await create_post(author, title=f"P{made}")
            made += 1
        reply = await anon.get("/posts", params={"limit": limit})
        assert reply.json()["pagination"] == {
            "page": 1,
            "limit": limit,
            "total": count,
            "totalPages": pages,
        }, (count, limit)


async def test_a_page_past_the_end_is_empty_with_the_true_total(
    author: Person, anon: httpx.AsyncClient
) -> None:
    for i in range(3):
        await create_post(author, title=f"P{i}")
    reply = await anon.get("/posts", params={"page": 5, "limit": 2})
    assert reply.status_code == 200
    assert reply.json() == {
        "data": [],
        "pagination": {"page": 5, "limit": 2, "total": 3, "totalPages": 2},
    }


@pytest.mark.parametrize("sort", ["title", "-title"])
async def test_pages_never_repeat_or_skip_posts_sharing_a_title(
    author: Person, stranger: Person, anon: httpx.AsyncClient, sort: str
) -> None:
    made = [await create_post(author if i % 2 else stranger, title="Same") for i in range(13)]
    await create_post(author, title="Another")
    for limit in (1, 4, 5):
        pages = await walk(anon, "/posts", limit, sort=sort)
        seen = [post_id for page in pages for post_id in page]
        assert len(seen) == len(set(seen)) == 14, (limit, pages)
        same = [post_id for post_id in seen if post_id in {p["id"] for p in made}]
        assert same == sorted(same, reverse=sort.startswith("-"))


async def test_pages_never_repeat_or_skip_posts_published_at_the_same_instant(
    services: Services, author: Person, anon: httpx.AsyncClient
) -> None:
    instant = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)
    async with services.db.write() as conn:
        await conn.execute(
            posts.insert(),
            [
                {
                    "user_id": author.id,
                    "title": f"Twin {i}",
                    "content": "C",
                    "published": True,
                    "published_at": instant,
                    "created_at": instant,
                    "updated_at": instant,
                }
                for i in range(11)
            ],
        )
    for sort in ("-published_at", "published_at", "created_at", "-created_at,-title"):
        pages = await walk(anon, "/posts", 3, sort=sort)
        seen = [post_id for page in pages for post_id in page]
        assert len(seen) == len(set(seen)) == 11, (sort, pages)
    default = await walk(anon, "/posts", 4)
    assert [i for page in default for i in page] == await walk_flat(anon, "-published_at")


async def walk_flat(anon: httpx.AsyncClient, sort: str) -> list[int]:
    return [post_id for page in await walk(anon, "/posts", 4, sort=sort) for post_id in page]


async def test_sort_lists_order_by_each_key_in_turn(
    author: Person, anon: httpx.AsyncClient
) -> None:
    b_old = await create_post(author, title="b", published=False)
    a_new = await create_post(author, title="a")
    await author.patch(f"/posts/{b_old['id']}", json={"published": True})
    c = await create_post(author, title="c", published=False)
    await author.patch(f"/posts/{c['id']}", json={"published": True})
    assert ids(await anon.get("/posts", params={"sort": "title"})) == [
        a_new["id"],
        b_old["id"],
        c["id"],
    ]
    assert ids(await anon.get("/posts", params={"sort": "-published_at,title"})) == [
        c["id"],
        b_old["id"],
        a_new["id"],
    ]
    assert ids(await anon.get("/posts", params={"sort": "created_at"})) == [
        b_old["id"],
        a_new["id"],
        c["id"],
    ]
    assert ids(await anon.get("/posts", params={"sort": "-title, created_at"})) == [
        c["id"],
        b_old["id"],
        a_new["id"],
    ]


async def test_titles_sort_without_regard_to_case(author: Person, anon: httpx.AsyncClient) -> None:
    upper = await create_post(author, title="Beta")
    lower = await create_post(author, title="alpha")
    assert ids(await anon.get("/posts", params={"sort": "title"})) == [lower["id"], upper["id"]]


@pytest.mark.parametrize("template", COLLECTIONS)
async def test_unknown_sort_keys_are_400(
    author: Person, anon: httpx.AsyncClient, template: str
) -> None:
    await create_post(author, tags=["shared"])
    url = collection(template, author)
    repeated = "name,name" if url == "/tags" else "title,title"
    for sort in ["email", "-password", repeated, "title;drop", "id", ",", "a,b,c,d,e", ""]:
        reply = await anon.get(url, params={"sort": sort})
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert set(error["details"]) == {"sort"}, sort
