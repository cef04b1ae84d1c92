"""GET /tags, /tags/{slug}, /tags/{slug}/posts: anyone reads; postCount counts published posts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import ACTORS, create_post, ids


@pytest.mark.parametrize("caller", ACTORS, indirect=True)
async def test_anyone_lists_tags_by_name(author: Person, caller: Any) -> None:
    await create_post(author, tags=["beta", "Alpha"])
    await create_post(author, tags=["gamma"], published=False)
    reply = await caller.get("/tags")
    assert reply.status_code == 200, reply.text
    # "gamma" is only on a draft: the list holds the tags of published posts (test_tag_privacy).
    assert [t["name"] for t in reply.json()["data"]] == ["Alpha", "beta"]
    assert [t["postCount"] for t in reply.json()["data"]] == [1, 1]
    assert reply.json()["pagination"] == {"page": 1, "limit": 20, "total": 2, "totalPages": 1}


@pytest.mark.parametrize("caller", ACTORS, indirect=True)
async def test_anyone_reads_a_tag_and_its_posts(author: Person, caller: Any) -> None:
    post = await create_post(author, tags=["News"])
    await create_post(author, tags=["Other"])
    tag = await caller.get("/tags/news")
    assert tag.status_code == 200, tag.text
    assert tag.json() == {**post["tags"][0], "postCount": 1}
    assert ids(await caller.get("/tags/news/posts")) == [post["id"]]


async def test_post_count_counts_only_published_posts(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    await create_post(author, tags=["counted"])
    await create_post(stranger, tags=["counted"])
    draft = await create_post(author, tags=["counted"], published=False)
    assert (await anon.get("/tags/counted")).json()["postCount"] == 2
    await author.patch(f"/posts/{draft['id']}", json={"published": True})
    assert (await anon.get("/tags/counted")).json()["postCount"] == 3


async def test_post_count_drops_posts_of_deleted_users(
    author: Person, admin: Person, anon: httpx.AsyncClient
) -> None:
    await create_post(author, tags=["fleeting"])
    assert (await admin.delete(f"/users/{author.id}")).status_code == 204
    assert (await admin.get("/tags/fleeting")).json()["postCount"] == 0
    # Nothing listed carries it any more: to readers it is gone (test_tag_privacy).
    assert_error(await anon.get("/tags/fleeting"), 404, "NOT_FOUND")


@pytest.mark.parametrize("caller", ["anon", "stranger", "moderator"], indirect=True)
async def test_tag_posts_list_only_published_posts(author: Person, caller: Any) -> None:
    published = await create_post(author, tags=["mixed"])
    await create_post(author, tags=["mixed"], published=False)
    reply = await caller.get("/tags/mixed/posts")
    assert ids(reply) == [published["id"]]
    assert reply.json()["pagination"]["total"] == 1


async def test_unknown_tag_is_404(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/tags/nothing"), 404, "NOT_FOUND")
    assert_error(await anon.get("/tags/nothing/posts"), 404, "NOT_FOUND")


async def test_tags_sort_by_post_count_ties_by_id(author: Person, anon: httpx.AsyncClient) -> None:
    await create_post(author, tags=["one", "two", "three"])
    await create_post(author, tags=["two", "three"])
    await create_post(author, tags=["three"])
    await create_post(author, tags=["four"])
    reply = await anon.get("/tags", params={"sort": "-post_count"})
    assert [(t["slug"], t["postCount"]) for t in reply.json()["data"]] == [
        ("three", 3),
        ("two", 2),
        ("one", 1),
        ("four", 1),
    ]
    ascending = await anon.get("/tags", params={"sort": "post_count,-name"})
    assert [t["slug"] for t in ascending.json()["data"]] == ["one", "four", "two", "three"]


async def test_unknown_tag_sort_is_400(anon: httpx.AsyncClient) -> None:
    for sort in ["title", "slug", "-", "name,name", ""]:
        error = assert_error(
            await anon.get("/tags", params={"sort": sort}), 400, "VALIDATION_ERROR"
        )
        assert "sort" in error["details"]


async def test_tag_list_pages(author: Person, anon: httpx.AsyncClient) -> None:
    await create_post(author, tags=[f"t{i:02}" for i in range(10)])
    await create_post(author, tags=[f"u{i:02}" for i in range(5)])
    first = await anon.get("/tags", params={"limit": 10})
    second = await anon.get("/tags", params={"limit": 10, "page": 2})
    assert first.json()["pagination"] == {"page": 1, "limit": 10, "total": 15, "totalPages": 2}
    assert len(second.json()["data"]) == 5
    slugs = [t["slug"] for t in first.json()["data"] + second.json()["data"]]
    assert slugs == sorted(slugs)
    assert len(set(slugs)) == 15
