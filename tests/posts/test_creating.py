"""POST /posts: posts:write holders create; the body is exactly the contract's, nothing more."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import SERVER_FIELDS, create_post, ids


@pytest.mark.parametrize("caller", ["author", "moderator", "admin"], indirect=True)
async def test_signed_in_users_create_posts(caller: Any, anon: httpx.AsyncClient) -> None:
    person: Person = caller
    reply = await person.post("/posts", json={"title": "Mine", "content": "Text"})
    assert reply.status_code == 201, reply.text
    post = reply.json()
    assert reply.headers["location"] == f"/api/v1/posts/{post['id']}"
    assert post["author"]["id"] == person.id
    assert post["published"] is False
    assert post["publishedAt"] is None
    assert post["tags"] == []
    assert (await person.get(reply.headers["location"].removeprefix("/api/v1"))).json() == post


async def test_anonymous_cannot_create_a_post(anon: httpx.AsyncClient, admin: Person) -> None:
    reply = await anon.post("/posts", json={"title": "T", "content": "C", "published": True})
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert ids(await admin.get("/posts")) == []
    assert ids(await admin.get("/posts", params={"published": "false"})) == []


async def test_publishing_on_creation_sets_published_at(author: Person) -> None:
    post = await create_post(author, published=True)
    assert post["published"] is True
    assert post["publishedAt"] is not None
    assert post["publishedAt"] >= post["createdAt"]


async def test_publishing_an_empty_post_is_422(author: Person, admin: Person) -> None:
    for content in ["", "   \n\t "]:
        reply = await author.post(
            "/posts", json={"title": "T", "content": content, "published": True}
        )
        assert_error(reply, 422, "UNPROCESSABLE_ENTITY")
        assert ids(await admin.get("/posts")) == []
        assert ids(await admin.get("/posts", params={"published": "false"})) == []


async def test_an_empty_draft_may_be_saved(author: Person) -> None:
    post = await create_post(author, content="", published=False)
    assert post["content"] == ""


async def test_mass_assignment_on_creation_is_refused(author: Person, admin: Person) -> None:
    for field, value in SERVER_FIELDS:
        body = {"title": "T", "content": "C", "published": True, field: value}
        error = assert_error(await author.post("/posts", json=body), 400, "VALIDATION_ERROR")
        assert field in error["details"]
        assert ids(await admin.get("/posts")) == []


async def test_invalid_post_bodies_are_400_by_field(author: Person, admin: Person) -> None:
    for body, path in [
        ({"content": "C"}, "title"),
        ({"title": "", "content": "C"}, "title"),
        ({"title": "   ", "content": "C"}, "title"),
        ({"title": "x" * 256, "content": "C"}, "title"),
        ({"title": "Line\nbreak", "content": "C"}, "title"),
        ({"title": "T"}, "content"),
        ({"title": "T", "content": 5}, "content"),
        ({"title": "T", "content": "C", "published": "yes"}, "published"),
        ({"title": "T", "content": "C", "tags": "python"}, "tags"),
        ({"title": "T", "content": "C", "tags": [""]}, "tags.0"),
        ({"title": "T", "content": "C", "tags": ["ok", "!!!"]}, "tags.1"),
        ({"title": "T", "content": "C", "tags": ["x" * 51]}, "tags.0"),
    ]:
        error = assert_error(await author.post("/posts", json=body), 400, "VALIDATION_ERROR")
        assert path in error["details"], error
        assert ids(await admin.get("/posts", params={"published": "false"})) == []
        assert (await admin.get("/tags")).json()["data"] == []


async def test_a_post_takes_at_most_ten_tags(author: Person, admin: Person) -> None:
    names = [f"tag{i}" for i in range(11)]
    body = {"title": "T", "content": "C", "tags": names}
    error = assert_error(await author.post("/posts", json=body), 400, "VALIDATION_ERROR")
    assert "tags" in error["details"]
    assert (await admin.get("/tags")).json()["data"] == []
    assert len((await create_post(author, tags=names[:10]))["tags"]) == 10
