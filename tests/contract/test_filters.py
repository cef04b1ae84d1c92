"""GET /posts filters: ?tag=slug, ?author=id, ?q=text (title or content, wildcards literal)."""

from __future__ import annotations

import httpx

from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids


async def test_tag_filter_lists_posts_with_that_tag(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    python = await create_post(author, tags=["Python", "Web"])
    web = await create_post(stranger, tags=["Web"])
    await create_post(author, tags=["Web"], published=False)
    assert ids(await anon.get("/posts", params={"tag": "python"})) == [python["id"]]
    assert ids(await anon.get("/posts", params={"tag": "web"})) == [web["id"], python["id"]]
    assert ids(await anon.get("/posts", params={"tag": "nothing"})) == []


async def test_author_filter_lists_that_authors_posts(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    mine = await create_post(author)
    theirs = await create_post(stranger)
    assert ids(await anon.get("/posts", params={"author": author.id})) == [mine["id"]]
    assert ids(await anon.get("/posts", params={"author": stranger.id})) == [theirs["id"]]
    assert ids(await anon.get("/posts", params={"author": 999999})) == []


async def test_q_matches_title_or_content_without_regard_to_case(
    author: Person, anon: httpx.AsyncClient
) -> None:
    in_title = await create_post(author, title="Async Python", content="body")
    in_content = await create_post(author, title="Other", content="all about PYTHON here")
    await create_post(author, title="Rust", content="systems")
    await create_post(author, title="Python draft", published=False)
    found = ids(await anon.get("/posts", params={"q": "python"}))
    assert sorted(found) == sorted([in_title["id"], in_content["id"]])


async def test_like_wildcards_in_q_are_taken_literally(
    author: Person, anon: httpx.AsyncClient
) -> None:
    for title in ("100% sure", "1000 sure", "a_b", "axb", "back\\slash", "it's", "plain"):
        await create_post(author, title=title, content="-")
    for q, expected in [
        ("100%", ["100% sure"]),
        ("%", ["100% sure"]),
        ("a_b", ["a_b"]),
        ("_", ["a_b"]),
        ("\\", ["back\\slash"]),
        ("'", ["it's"]),
    ]:
        reply = await anon.get("/posts", params={"q": q})
        assert sorted(p["title"] for p in reply.json()["data"]) == expected, q


async def test_filters_combine(author: Person, stranger: Person, anon: httpx.AsyncClient) -> None:
    hit = await create_post(author, title="Async in Go", tags=["go"])
    await create_post(author, title="Sync in Go", content="no", tags=["rust"])
    await create_post(stranger, title="Async in Go", tags=["go"])
    params = {"tag": "go", "author": str(author.id), "q": "async"}
    reply = await anon.get("/posts", params=params)
    assert ids(reply) == [hit["id"]]
    assert reply.json()["pagination"]["total"] == 1


async def test_filters_apply_to_the_draft_list_too(
    author: Person, moderator: Person, stranger: Person
) -> None:
    draft = await create_post(author, title="Secret plan", published=False, tags=["plans"])
    await create_post(stranger, title="Secret other", published=False)
    params = {"published": "false", "author": str(author.id), "q": "secret", "tag": "plans"}
    assert ids(await moderator.get("/posts", params=params)) == [draft["id"]]
    assert ids(await stranger.get("/posts", params=params)) == []


async def test_bad_filter_values_are_400(anon: httpx.AsyncClient) -> None:
    for name, value in [
        ("author", "abc"),
        ("author", "0"),
        ("author", "-3"),
        ("q", "x" * 101),
        ("tag", "t" * 51),
        ("published", "maybe"),
    ]:
        error = assert_error(
            await anon.get("/posts", params={name: value}), 400, "VALIDATION_ERROR"
        )
        assert set(error["details"]) == {name}
