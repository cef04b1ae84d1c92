"""A tag known only from drafts tells what someone is writing: it is not listed, and reading it
or its posts is a 404 for anyone who cannot see one of those drafts. Its author and the
moderators who review drafts still read it, and posts:delete holders still rename and delete it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.graphql.conftest import data_of
from tests.posts.factories import ACTORS, create_post


async def listed_slugs(reader: Any) -> list[str]:
    reply = await reader.get("/tags")
    assert reply.status_code == 200, reply.text
    rest = [t["slug"] for t in reply.json()["data"]]
    graph = await data_of(reader, "{ tags { totalCount edges { node { slug } } } }")
    assert [e["node"]["slug"] for e in graph["tags"]["edges"]] == rest
    assert graph["tags"]["totalCount"] == reply.json()["pagination"]["total"] == len(rest)
    return rest


async def assert_unknown(reader: Any, slug: str) -> None:
    assert_error(await reader.get(f"/tags/{slug}"), 404, "NOT_FOUND")
    assert_error(await reader.get(f"/tags/{slug}/posts"), 404, "NOT_FOUND")
    assert slug not in await listed_slugs(reader)


@pytest.mark.parametrize("caller", ACTORS, indirect=True)
async def test_a_tag_first_used_on_a_draft_is_listed_to_nobody(author: Person, caller: Any) -> None:
    await create_post(author, tags=["public"])
    await create_post(author, tags=["secret-launch"], published=False)
    assert await listed_slugs(caller) == ["public"]


@pytest.mark.parametrize("caller", ["anon", "stranger"], indirect=True)
async def test_readers_who_cannot_see_the_draft_get_404_for_its_tag(
    author: Person, caller: Any
) -> None:
    await create_post(author, tags=["secret-launch"], published=False)
    await assert_unknown(caller, "secret-launch")


@pytest.mark.parametrize("caller", ["author", "moderator", "admin"], indirect=True)
async def test_who_may_see_the_draft_reads_its_tag(author: Person, caller: Any) -> None:
    await create_post(author, tags=["secret-launch"], published=False)
    tag = await caller.get("/tags/secret-launch")
    assert tag.status_code == 200, tag.text
    assert tag.json()["postCount"] == 0
    assert (await caller.get("/tags/secret-launch/posts")).json()["data"] == []


async def test_the_tag_appears_once_its_post_is_published(
    author: Person, anon: httpx.AsyncClient
) -> None:
    draft = await create_post(author, tags=["secret-launch"], published=False)
    await assert_unknown(anon, "secret-launch")
    published = await author.patch(f"/posts/{draft['id']}", json={"published": True})
    assert published.status_code == 200
    assert (await anon.get("/tags/secret-launch")).json()["postCount"] == 1
    assert await listed_slugs(anon) == ["secret-launch"]


async def test_a_tag_left_without_posts_stays_hidden_but_moderators_manage_it(
    author: Person, anon: httpx.AsyncClient, moderator: Person
) -> None:
    draft = await create_post(author, tags=["scrapped"], published=False)
    assert (await author.delete(f"/posts/{draft['id']}")).status_code == 204
    await assert_unknown(anon, "scrapped")
    await assert_unknown(author, "scrapped")
    assert (await moderator.get("/tags/scrapped")).status_code == 200
    renamed = await moderator.patch("/tags/scrapped", json={"name": "Shelved", "slug": "shelved"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["slug"] == "shelved"
    assert (await moderator.delete("/tags/shelved")).status_code == 204
    assert_error(await moderator.get("/tags/shelved"), 404, "NOT_FOUND")


async def test_moderators_rename_and_delete_a_tag_used_only_on_drafts(
    author: Person, anon: httpx.AsyncClient, moderator: Person
) -> None:
    draft = await create_post(author, tags=["secret-launch"], published=False)
    renamed = await moderator.patch("/tags/secret-launch", json={"name": "Launch"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {**renamed.json(), "name": "Launch", "postCount": 0}
    await assert_unknown(anon, "secret-launch")
    assert (await moderator.delete("/tags/secret-launch")).status_code == 204
    post = await author.get(f"/posts/{draft['id']}")
    assert post.json()["tags"] == []
