"""GET /users/{id}/posts: one author's posts, paginated and sorted like every collection."""

from __future__ import annotations

import httpx

from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids


async def test_user_posts_lists_only_that_users_posts(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    mine = await create_post(author)
    await create_post(stranger)
    assert ids(await anon.get(f"/users/{author.id}/posts")) == [mine["id"]]


async def test_user_without_posts_has_an_empty_list(
    stranger: Person, anon: httpx.AsyncClient
) -> None:
    reply = await anon.get(f"/users/{stranger.id}/posts")
    assert ids(reply) == []
    assert reply.json()["pagination"]["total"] == 0


async def test_posts_of_an_unknown_user_are_404(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/users/999999/posts"), 404, "NOT_FOUND")


async def test_posts_of_a_deleted_user_are_404(
    author: Person, admin: Person, anon: httpx.AsyncClient
) -> None:
    await create_post(author)
    assert (await admin.delete(f"/users/{author.id}")).status_code == 204
    assert_error(await anon.get(f"/users/{author.id}/posts"), 404, "NOT_FOUND")
    assert_error(await admin.get(f"/users/{author.id}/posts"), 404, "NOT_FOUND")


async def test_user_posts_sort_by_title(author: Person, anon: httpx.AsyncClient) -> None:
    b = await create_post(author, title="beta")
    a = await create_post(author, title="Alpha")
    listed = await anon.get(f"/users/{author.id}/posts", params={"sort": "title"})
    assert ids(listed) == [a["id"], b["id"]]
    assert_error(
        await anon.get(f"/users/{author.id}/posts", params={"sort": "email"}),
        400,
        "VALIDATION_ERROR",
    )
