"""Every GET of a resource or collection has a strong ETag; If-None-Match answers 304 with no
body; Cache-Control says who may keep a reply; HEAD agrees with GET."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person
from tests.posts.factories import create_post

PUBLIC = "public, max-age=0, must-revalidate"


def strong_tag(reply: httpx.Response) -> str:
    tag = reply.headers["etag"]
    assert tag.startswith('"'), tag  # strong: no W/ prefix
    assert tag.endswith('"'), tag
    return tag


async def test_a_post_answers_304_to_its_current_tag_with_no_body(
    anon: httpx.AsyncClient, author: Person
) -> None:
    post = await create_post(author, tags=["Go"])
    first = await anon.get(f"/posts/{post['id']}")
    tag = strong_tag(first)
    again = await anon.get(f"/posts/{post['id']}", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == PUBLIC
    # Another tag among several, or a weak form of the same one, still matches (weak comparison).
    listed = await anon.get(f"/posts/{post['id']}", headers={"If-None-Match": f'"other", W/{tag}'})
    assert listed.status_code == 304


async def test_a_changed_post_has_a_new_tag_and_a_stale_one_gets_the_body(
    anon: httpx.AsyncClient, author: Person
) -> None:
    post = await create_post(author)
    old = strong_tag(await anon.get(f"/posts/{post['id']}"))
    edited = await author.patch(f"/posts/{post['id']}", json={"title": "New title"})
    assert edited.status_code == 200
    reply = await anon.get(f"/posts/{post['id']}", headers={"If-None-Match": old})
    assert reply.status_code == 200
    assert reply.json()["title"] == "New title"
    assert strong_tag(reply) != old
    # The PATCH's own reply carries the tag of the representation it returns.
    assert edited.headers["etag"] == reply.headers["etag"]


@pytest.mark.parametrize(
    "path", ["/posts", "/posts?limit=5&sort=title", "/tags", "/tags/go", "/tags/go/posts"]
)
async def test_collections_and_tags_have_tags_and_304s(
    anon: httpx.AsyncClient, author: Person, path: str
) -> None:
    await create_post(author, tags=["Go"])
    reply = await anon.get(path)
    assert reply.status_code == 200, reply.text
    tag = strong_tag(reply)
    assert reply.headers["cache-control"] == PUBLIC
    assert "Authorization" in reply.headers["vary"]
    assert (await anon.get(path, headers={"If-None-Match": tag})).status_code == 304
    assert (await anon.get(path, headers={"If-None-Match": "*"})).status_code == 304


async def test_a_list_tag_changes_when_a_post_is_published(
    anon: httpx.AsyncClient, author: Person
) -> None:
    before = strong_tag(await anon.get("/posts"))
    await create_post(author)
    reply = await anon.get("/posts", headers={"If-None-Match": before})
    assert reply.status_code == 200
    assert len(reply.json()["data"]) == 1


@pytest.mark.parametrize(
    "path", ["/posts", "/tags", "/users/me", "/users/me/sessions", "/users", "/posts/{post}"]
)
async def test_what_a_signed_in_caller_reads_is_private(author: Person, path: str) -> None:
    post = await create_post(author)
    reply = await author.get(path.format(post=post["id"]))
    assert reply.status_code == 200, reply.text
    tag = strong_tag(reply)
    assert reply.headers["cache-control"] in ("private", "no-store")
    assert "Authorization" in reply.headers["vary"]
    again = await author.get(path.format(post=post["id"]), headers={"If-None-Match": tag})
    if path == "/users/me/sessions":  # says when each session was last used: it moves
        return
    assert again.status_code == 304


async def test_a_user_has_one_tag_per_view(author: Person, stranger: Person, admin: Person) -> None:
    own = await author.get(f"/users/{author.id}")
    managed = await admin.get(f"/users/{author.id}")
    public = await stranger.get(f"/users/{author.id}")
    me = await author.get("/users/me")
    assert own.headers["etag"] == managed.headers["etag"] == me.headers["etag"]
    assert public.headers["etag"] != own.headers["etag"]


async def test_auth_replies_are_not_stored(anon: httpx.AsyncClient, author: Person) -> None:
    reply = await anon.post("/auth/login", json={"email": author.email, "password": "wrong"})
    assert reply.headers["cache-control"] == "no-store"
    reply = await anon.post(
        "/auth/login", json={"email": author.email, "password": author.password}
    )
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    assert "etag" not in reply.headers


async def test_errors_have_no_tag_and_are_not_stored(anon: httpx.AsyncClient) -> None:
    reply = await anon.get("/posts/999999", headers={"If-None-Match": "*"})
    assert reply.status_code == 404
    assert "etag" not in reply.headers
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/posts", "/posts/{post}", "/tags", "/users/me"])
@pytest.mark.parametrize("caller", ["anon", "author"], indirect=True)
async def test_head_agrees_with_get(author: Person, caller: Any, path: str) -> None:
    post = await create_post(author)
    url = path.format(post=post["id"])
    if url == "/users/me" and not isinstance(caller, Person):
        return
    headers = caller.headers if isinstance(caller, Person) else {}
    http = caller.http if isinstance(caller, Person) else caller
    got = await http.get(url, headers=headers)
    head = await http.head(url, headers=headers)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for name in ("etag", "cache-control", "vary", "content-type", "content-length"):
        assert head.headers[name] == got.headers[name], name
    conditional = await http.head(url, headers={**headers, "If-None-Match": got.headers["etag"]})
    assert conditional.status_code == 304
