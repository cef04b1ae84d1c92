"""PATCH /posts/{id}: authors edit their own posts, admins any; moderators may not edit others'
posts; a refused edit changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import SERVER_FIELDS, create_post, read_post


async def test_author_edits_own_post(author: Person) -> None:
    post = await create_post(author, title="Old", content="Old text", tags=["a"])
    reply = await author.patch(f"/posts/{post['id']}", json={"title": "New"})
    assert reply.status_code == 200, reply.text
    edited = reply.json()
    assert edited["title"] == "New"
    assert edited["content"] == "Old text"
    assert edited["tags"] == post["tags"]
    assert edited["publishedAt"] == post["publishedAt"]
    assert edited["updatedAt"] > post["updatedAt"]
    assert await read_post(author, post["id"]) == edited


async def test_admin_edits_any_post(author: Person, admin: Person) -> None:
    for published in (True, False):
        post = await create_post(author, published=published)
        reply = await admin.patch(f"/posts/{post['id']}", json={"content": "Fixed by admin"})
        assert reply.status_code == 200, reply.text
        assert reply.json()["content"] == "Fixed by admin"
        assert reply.json()["author"]["id"] == author.id


@pytest.mark.parametrize("published", [True, False])
async def test_moderator_may_not_edit_others_posts(
    author: Person, moderator: Person, published: bool
) -> None:
    post = await create_post(author, published=published)
    reply = await moderator.patch(f"/posts/{post['id']}", json={"title": "Moderated"})
    assert_error(reply, 403, "AUTHORIZATION_ERROR")
    assert await read_post(author, post["id"]) == post


async def test_moderator_edits_own_post(moderator: Person) -> None:
    post = await create_post(moderator)
    reply = await moderator.patch(f"/posts/{post['id']}", json={"title": "Mine"})
    assert reply.status_code == 200, reply.text


async def test_stranger_gets_403_editing_a_published_post(author: Person, stranger: Person) -> None:
    post = await create_post(author, tags=["keep"])
    body = {"title": "Taken", "published": False, "tags": ["mine"]}
    assert_error(
        await stranger.patch(f"/posts/{post['id']}", json=body), 403, "AUTHORIZATION_ERROR"
    )
    assert await read_post(author, post["id"]) == post


async def test_anonymous_gets_401_editing_a_post(author: Person, anon: httpx.AsyncClient) -> None:
    post = await create_post(author)
    reply = await anon.patch(f"/posts/{post['id']}", json={"title": "Anon"})
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert await read_post(author, post["id"]) == post


async def test_editing_an_unknown_post_is_404(admin: Person) -> None:
    assert_error(await admin.patch("/posts/999999", json={"title": "X"}), 404, "NOT_FOUND")


async def test_publishing_a_draft_sets_published_at(
    author: Person, anon: httpx.AsyncClient
) -> None:
    draft = await create_post(author, published=False)
    reply = await author.patch(f"/posts/{draft['id']}", json={"published": True})
    assert reply.status_code == 200, reply.text
    published = reply.json()
    assert published["published"] is True
    assert published["publishedAt"] is not None
    assert published["publishedAt"] >= draft["createdAt"]
    assert (await anon.get(f"/posts/{draft['id']}")).json() == published


async def test_republishing_keeps_the_first_published_at(author: Person) -> None:
    post = await create_post(author, published=True)
    reply = await author.patch(f"/posts/{post['id']}", json={"published": True, "title": "T2"})
    assert reply.json()["publishedAt"] == post["publishedAt"]


async def test_unpublishing_hides_the_post_again(author: Person, anon: httpx.AsyncClient) -> None:
    post = await create_post(author, published=True)
    reply = await author.patch(f"/posts/{post['id']}", json={"published": False})
    assert reply.json()["published"] is False
    assert reply.json()["publishedAt"] is None
    assert_error(await anon.get(f"/posts/{post['id']}"), 404, "NOT_FOUND")


async def test_publishing_an_empty_draft_is_422(author: Person) -> None:
    draft = await create_post(author, content="", published=False)
    reply = await author.patch(f"/posts/{draft['id']}", json={"published": True})
    assert_error(reply, 422, "UNPROCESSABLE_ENTITY")
    assert await read_post(author, draft["id"]) == draft


async def test_emptying_a_published_post_is_422(author: Person) -> None:
    post = await create_post(author, published=True, tags=["x"])
    reply = await author.patch(f"/posts/{post['id']}", json={"content": "  ", "tags": ["y"]})
    assert_error(reply, 422, "UNPROCESSABLE_ENTITY")
    assert await read_post(author, post["id"]) == post


async def test_editing_replaces_the_tags(author: Person) -> None:
    post = await create_post(author, tags=["one", "two"])
    reply = await author.patch(f"/posts/{post['id']}", json={"tags": ["two", "three"]})
    assert [t["slug"] for t in reply.json()["tags"]] == ["three", "two"]
    cleared = await author.patch(f"/posts/{post['id']}", json={"tags": []})
    assert cleared.json()["tags"] == []


async def test_an_empty_patch_changes_nothing_but_is_fine(author: Person) -> None:
    post = await create_post(author)
    reply = await author.patch(f"/posts/{post['id']}", json={})
    assert reply.status_code == 200, reply.text
    assert {k: v for k, v in reply.json().items() if k != "updatedAt"} == {
        k: v for k, v in post.items() if k != "updatedAt"
    }


async def test_mass_assignment_on_edit_is_refused(author: Person, admin: Person) -> None:
    for field, value in SERVER_FIELDS:
        post = await create_post(author)
        reply = await author.patch(f"/posts/{post['id']}", json={"title": "New", field: value})
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert field in error["details"]
        assert await read_post(admin, post["id"]) == post


async def test_invalid_edits_are_400_by_field(author: Person) -> None:
    for body, path in [
        ({"title": None}, "title"),
        ({"content": None}, "content"),
        ({"published": None}, "published"),
        ({"tags": None}, "tags"),
        ({"title": ""}, "title"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
    ]:
        post = await create_post(author)
        reply = await author.patch(f"/posts/{post['id']}", json=body)
        assert path in assert_error(reply, 400, "VALIDATION_ERROR")["details"]
        assert await read_post(author, post["id"]) == post
