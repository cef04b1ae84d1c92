"""Drafts are seen by their author, moderators and admins only; everyone else gets a 404,
exactly as for a post that does not exist."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids, read_post


@pytest.mark.parametrize("caller", ["author", "moderator", "admin"], indirect=True)
async def test_author_moderator_and_admin_see_a_draft(author: Person, caller: Any) -> None:
    draft = await create_post(author, published=False)
    reply = await caller.get(f"/posts/{draft['id']}")
    assert reply.status_code == 200, reply.text
    assert reply.json() == draft
    assert draft["published"] is False
    assert draft["publishedAt"] is None


@pytest.mark.parametrize("caller", ["anon", "stranger"], indirect=True)
async def test_other_user_gets_404_for_a_draft(author: Person, caller: Any) -> None:
    draft = await create_post(author, published=False)
    missing = await caller.get("/posts/999999")
    hidden = await caller.get(f"/posts/{draft['id']}")
    assert_error(hidden, 404, "NOT_FOUND")
    assert hidden.json() == missing.json()


async def test_other_user_gets_404_editing_or_deleting_a_draft(
    author: Person, stranger: Person
) -> None:
    draft = await create_post(author, published=False)
    missing = await stranger.patch("/posts/999999", json={"title": "Mine"})
    edited = await stranger.patch(f"/posts/{draft['id']}", json={"title": "Mine"})
    assert_error(edited, 404, "NOT_FOUND")
    assert edited.json() == missing.json()
    assert_error(await stranger.delete(f"/posts/{draft['id']}"), 404, "NOT_FOUND")
    assert await read_post(author, draft["id"]) == draft


async def test_anonymous_writes_get_the_same_401_for_drafts_and_missing_posts(
    author: Person, anon: httpx.AsyncClient
) -> None:
    """Anonymous writes stop at authentication, so they cannot tell a draft exists either."""
    draft = await create_post(author, published=False)
    for target in (f"/posts/{draft['id']}", "/posts/999999"):
        assert_error(await anon.patch(target, json={"title": "X"}), 401, "AUTHENTICATION_ERROR")
        assert_error(await anon.delete(target), 401, "AUTHENTICATION_ERROR")
    assert await read_post(author, draft["id"]) == draft


async def test_draft_list_shows_a_user_only_their_own_drafts(
    author: Person, stranger: Person
) -> None:
    mine = await create_post(author, published=False)
    await create_post(stranger, published=False)
    await create_post(author, published=True)
    assert ids(await author.get("/posts", params={"published": "false"})) == [mine["id"]]


@pytest.mark.parametrize("caller", ["moderator", "admin"], indirect=True)
async def test_draft_list_shows_moderators_and_admins_every_draft(
    author: Person, stranger: Person, caller: Any
) -> None:
    first = await create_post(author, published=False)
    second = await create_post(stranger, published=False)
    await create_post(author, published=True)
    listed = await caller.get("/posts", params={"published": "false"})
    assert ids(listed) == [second["id"], first["id"]]
    assert listed.json()["pagination"]["total"] == 2


async def test_draft_list_is_empty_for_anonymous(author: Person, anon: httpx.AsyncClient) -> None:
    await create_post(author, published=False)
    listed = await anon.get("/posts", params={"published": "false"})
    assert ids(listed) == []
    assert listed.json()["pagination"] == {"page": 1, "limit": 20, "total": 0, "totalPages": 0}


async def test_drafts_never_appear_in_the_published_list(
    author: Person, moderator: Person, admin: Person
) -> None:
    await create_post(author, published=False)
    for reader in (author, moderator, admin):
        assert ids(await reader.get("/posts")) == []


@pytest.mark.parametrize(
    ("caller", "sees_drafts"),
    [("anon", False), ("stranger", False), ("author", True), ("moderator", True), ("admin", True)],
    indirect=["caller"],
)
async def test_user_posts_include_drafts_only_for_self_and_moderators(
    author: Person, caller: Any, sees_drafts: bool
) -> None:
    published = await create_post(author, title="Out")
    draft = await create_post(author, title="In progress", published=False)
    listed = await caller.get(f"/users/{author.id}/posts")
    expected = [draft["id"], published["id"]] if sees_drafts else [published["id"]]
    assert ids(listed) == expected
    assert listed.json()["pagination"]["total"] == len(expected)
