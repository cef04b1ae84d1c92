"""DELETE /posts/{id}: authors delete their own posts, posts:delete holders any; 204."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids, read_post


@pytest.mark.parametrize("published", [True, False])
async def test_author_deletes_own_post(
    author: Person, admin: Person, anon: httpx.AsyncClient, published: bool
) -> None:
    post = await create_post(author, published=published, tags=["gone"])
    reply = await author.delete(f"/posts/{post['id']}")
    assert reply.status_code == 204
    assert reply.content == b""
    assert_error(await admin.get(f"/posts/{post['id']}"), 404, "NOT_FOUND")
    assert ids(await anon.get("/posts")) == []
    assert ids(await admin.get(f"/users/{author.id}/posts")) == []
    assert_error(await author.delete(f"/posts/{post['id']}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("caller", ["moderator", "admin"], indirect=True)
@pytest.mark.parametrize("published", [True, False])
async def test_moderators_and_admins_delete_any_post(
    author: Person, caller: Any, published: bool
) -> None:
    post = await create_post(author, published=published)
    person: Person = caller
    assert (await person.delete(f"/posts/{post['id']}")).status_code == 204
    assert_error(await author.get(f"/posts/{post['id']}"), 404, "NOT_FOUND")


async def test_stranger_gets_403_deleting_a_published_post(
    author: Person, stranger: Person
) -> None:
    post = await create_post(author, tags=["kept"])
    assert_error(await stranger.delete(f"/posts/{post['id']}"), 403, "AUTHORIZATION_ERROR")
    assert await read_post(author, post["id"]) == post


async def test_stranger_gets_404_deleting_a_draft(author: Person, stranger: Person) -> None:
    draft = await create_post(author, published=False)
    assert_error(await stranger.delete(f"/posts/{draft['id']}"), 404, "NOT_FOUND")
    assert await read_post(author, draft["id"]) == draft


async def test_anonymous_gets_401_deleting_a_post(author: Person, anon: httpx.AsyncClient) -> None:
    post = await create_post(author)
    assert_error(await anon.delete(f"/posts/{post['id']}"), 401, "AUTHENTICATION_ERROR")
    assert await read_post(author, post["id"]) == post


async def test_deleting_an_unknown_post_is_404(admin: Person) -> None:
    assert_error(await admin.delete("/posts/999999"), 404, "NOT_FOUND")


async def test_deleting_a_post_keeps_its_tags_but_not_their_count(
    author: Person, anon: httpx.AsyncClient, moderator: Person
) -> None:
    post = await create_post(author, tags=["lasting"])
    assert (await anon.get("/tags/lasting")).json()["postCount"] == 1
    assert (await author.delete(f"/posts/{post['id']}")).status_code == 204
    # Kept for moderators to manage; readers no longer see it (tests/tags/test_tag_privacy.py).
    assert (await moderator.get("/tags/lasting")).json()["postCount"] == 0
    assert (await anon.get("/tags/lasting")).status_code == 404


async def test_a_deleted_posts_id_is_never_given_to_a_new_post(
    author: Person, anon: httpx.AsyncClient
) -> None:
    newest = await create_post(author, title="Gone")
    assert (await author.delete(f"/posts/{newest['id']}")).status_code == 204
    replacement = await create_post(author, title="New")
    assert replacement["id"] > newest["id"]
    assert_error(await anon.get(f"/posts/{newest['id']}"), 404, "NOT_FOUND")
