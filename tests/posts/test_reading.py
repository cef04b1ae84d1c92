"""GET /posts and GET /posts/{id}: anyone reads published posts, in the shape docs/api.md gives."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import ACTORS, create_post, ids

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.mark.parametrize("caller", ACTORS, indirect=True)
async def test_anyone_reads_a_published_post(author: Person, caller: Any) -> None:
    post = await create_post(author, title="Hello", content="World", tags=["News"])
    reply = await caller.get(f"/posts/{post['id']}")
    assert reply.status_code == 200, reply.text
    assert reply.json() == post


@pytest.mark.parametrize("caller", ACTORS, indirect=True)
async def test_anyone_lists_published_posts(author: Person, caller: Any) -> None:
    first = await create_post(author, title="First")
    second = await create_post(author, title="Second")
    await create_post(author, title="Draft", published=False)
    assert ids(await caller.get("/posts")) == [second["id"], first["id"]]


async def test_tags_come_in_name_order_whatever_the_case_on_a_post_and_in_lists(
    author: Person, stranger: Person
) -> None:
    post = await create_post(author, tags=["web", "Zed", "alpha", "Python"])
    other = await create_post(author, tags=["Gamma", "beta", "delta"])
    names = ["alpha", "Python", "web", "Zed"]
    assert [t["name"] for t in post["tags"]] == names
    for caller in (stranger.http, stranger):
        one = (await caller.get(f"/posts/{post['id']}")).json()
        assert [t["name"] for t in one["tags"]] == names
        for route in ("/posts", f"/users/{author.id}/posts"):
            listed = {p["id"]: p for p in (await caller.get(route)).json()["data"]}
            assert [t["name"] for t in listed[post["id"]]["tags"]] == names
            assert [t["name"] for t in listed[other["id"]]["tags"]] == ["beta", "delta", "Gamma"]
            assert listed[post["id"]] == one


async def test_a_post_has_the_shape_of_the_contract(author: Person) -> None:
    post = await create_post(author, title="Shape", content="Body", tags=["Python", "Web Dev"])
    assert set(post) == {
        "id",
        "title",
        "content",
        "published",
        "publishedAt",
        "author",
        "tags",
        "createdAt",
        "updatedAt",
    }
    assert post["title"] == "Shape"
    assert post["content"] == "Body"
    assert post["published"] is True
    assert post["author"]["id"] == author.id
    assert set(post["author"]) == {"id", "profile"}
    assert post["author"]["profile"]["firstName"] == "Ada"
    assert "email" not in str(post)
    assert [(t["name"], t["slug"]) for t in post["tags"]] == [
        ("Python", "python"),
        ("Web Dev", "web-dev"),
    ]
    assert all(set(t) == {"id", "name", "slug"} for t in post["tags"])
    for stamp in ("publishedAt", "createdAt", "updatedAt"):
        assert RFC3339_UTC.match(post[stamp]), post[stamp]


async def test_unknown_post_is_404(anon: httpx.AsyncClient, admin: Person) -> None:
    assert_error(await anon.get("/posts/999999"), 404, "NOT_FOUND")
    assert_error(await admin.get("/posts/999999"), 404, "NOT_FOUND")


async def test_a_post_id_that_is_not_a_number_is_400(anon: httpx.AsyncClient) -> None:
    error = assert_error(await anon.get("/posts/abc"), 400, "VALIDATION_ERROR")
    assert "post_id" in error["details"]


async def test_a_bad_token_is_401_even_on_a_public_route(anon: httpx.AsyncClient) -> None:
    reply = await anon.get("/posts", headers={"Authorization": "Bearer not-a-token"})
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_posts_of_a_deleted_author_disappear(
    author: Person, anon: httpx.AsyncClient, admin: Person
) -> None:
    post = await create_post(author)
    assert (await admin.delete(f"/users/{author.id}")).status_code == 204
    assert_error(await anon.get(f"/posts/{post['id']}"), 404, "NOT_FOUND")
    assert ids(await anon.get("/posts")) == []
