"""PATCH and DELETE /tags/{slug}: posts:delete holders (moderators, admins) rename and remove
tags; everyone else is refused and nothing changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error
from tests.posts.factories import create_post, ids, read_post


async def tag_list(anon: httpx.AsyncClient) -> list[dict[str, Any]]:
    reply = await anon.get("/tags")
    assert reply.status_code == 200
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        ("anon", 401, "AUTHENTICATION_ERROR"),
        ("author", 403, "AUTHORIZATION_ERROR"),
        ("stranger", 403, "AUTHORIZATION_ERROR"),
    ],
    indirect=["caller"],
)
async def test_users_without_posts_delete_may_not_change_tags(
    author: Person, anon: httpx.AsyncClient, caller: Any, status: int, code: str
) -> None:
    post = await create_post(author, tags=["guarded"])
    before = await tag_list(anon)
    assert_error(await caller.patch("/tags/guarded", json={"name": "Taken"}), status, code)
    assert_error(await caller.delete("/tags/guarded"), status, code)
    assert await tag_list(anon) == before
    assert await read_post(author, post["id"]) == post


@pytest.mark.parametrize("caller", ["moderator", "admin"], indirect=True)
async def test_moderators_and_admins_rename_a_tag_keeping_its_slug(
    author: Person, anon: httpx.AsyncClient, caller: Any
) -> None:
    post = await create_post(author, tags=["golang"])
    reply = await caller.patch("/tags/golang", json={"name": "Go"})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "id": post["tags"][0]["id"],
        "name": "Go",
        "slug": "golang",
        "postCount": 1,
    }
    assert (await anon.get("/tags/golang")).json()["name"] == "Go"
    assert (await anon.get(f"/posts/{post['id']}")).json()["tags"][0]["name"] == "Go"


@pytest.mark.parametrize("caller", ["moderator", "admin"], indirect=True)
async def test_changing_the_slug_moves_the_tag(
    author: Person, anon: httpx.AsyncClient, caller: Any
) -> None:
    post = await create_post(author, tags=["js"])
    reply = await caller.patch("/tags/js", json={"slug": "javascript"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["slug"] == "javascript"
    assert reply.json()["name"] == "js"
    assert_error(await anon.get("/tags/js"), 404, "NOT_FOUND")
    assert_error(await anon.get("/tags/js/posts"), 404, "NOT_FOUND")
    assert (await anon.get("/tags/javascript")).json()["postCount"] == 1
    assert ids(await anon.get("/tags/javascript/posts")) == [post["id"]]
    assert ids(await anon.get("/posts", params={"tag": "javascript"})) == [post["id"]]


async def test_name_and_slug_change_together(moderator: Person, author: Person) -> None:
    await create_post(author, tags=["py"])
    reply = await moderator.patch("/tags/py", json={"name": "Python", "slug": "python"})
    assert (reply.json()["name"], reply.json()["slug"]) == ("Python", "python")


async def test_renaming_to_a_taken_name_or_slug_is_409(
    author: Person, moderator: Person, anon: httpx.AsyncClient
) -> None:
    for body in [
        {"name": "Rust"},
        {"name": "RUST"},
        {"slug": "rust"},
        {"name": "Other", "slug": "rust"},
    ]:
        await create_post(author, tags=["Rust", "Go"])
        before = await tag_list(anon)
        assert_error(await moderator.patch("/tags/go", json=body), 409, "CONFLICT")
        assert await tag_list(anon) == before


async def test_renaming_a_tag_to_its_own_name_in_another_case_is_fine(
    author: Person, moderator: Person
) -> None:
    await create_post(author, tags=["graphql"])
    reply = await moderator.patch("/tags/graphql", json={"name": "GraphQL", "slug": "graphql"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"] == "GraphQL"


async def test_invalid_tag_changes_are_400(
    author: Person, moderator: Person, anon: httpx.AsyncClient
) -> None:
    for body, path in [
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "-lead"}, "slug"),
        ({"slug": "a" * 51}, "slug"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"postCount": 5}, "postCount"),
        ({"id": 9}, "id"),
    ]:
        await create_post(author, tags=["stable"])
        before = await tag_list(anon)
        error = assert_error(
            await moderator.patch("/tags/stable", json=body), 400, "VALIDATION_ERROR"
        )
        assert path in error["details"]
        assert await tag_list(anon) == before


async def test_changing_an_unknown_tag_is_404(moderator: Person) -> None:
    assert_error(await moderator.patch("/tags/nothing", json={"name": "X"}), 404, "NOT_FOUND")
    assert_error(await moderator.delete("/tags/nothing"), 404, "NOT_FOUND")


@pytest.mark.parametrize("caller", ["moderator", "admin"], indirect=True)
async def test_deleting_a_tag_detaches_it_from_its_posts(
    author: Person, anon: httpx.AsyncClient, caller: Any
) -> None:
    post = await create_post(author, tags=["doomed", "kept"])
    draft = await create_post(author, tags=["doomed"], published=False)
    reply = await caller.delete("/tags/doomed")
    assert reply.status_code == 204
    assert reply.content == b""
    assert_error(await anon.get("/tags/doomed"), 404, "NOT_FOUND")
    assert [t["slug"] for t in (await anon.get(f"/posts/{post['id']}")).json()["tags"]] == ["kept"]
    assert (await read_post(author, draft["id"]))["tags"] == []
    assert ids(await anon.get("/posts")) == [post["id"]]
    assert ids(await anon.get("/posts", params={"tag": "doomed"})) == []
    assert [t["slug"] for t in await tag_list(anon)] == ["kept"]


async def test_a_deleted_tag_name_can_be_used_again(author: Person, moderator: Person) -> None:
    old = await create_post(author, tags=["phoenix"])
    assert (await moderator.delete("/tags/phoenix")).status_code == 204
    assert (await read_post(author, old["id"]))["tags"] == []
    new = await create_post(author, tags=["Phoenix"])
    assert [(t["name"], t["slug"]) for t in new["tags"]] == [("Phoenix", "phoenix")]
    assert (await read_post(author, old["id"]))["tags"] == []


async def test_a_deleted_tags_id_is_never_given_to_a_new_tag(
    author: Person, moderator: Person
) -> None:
    old = await create_post(author, tags=["first"])
    assert (await moderator.delete("/tags/first")).status_code == 204
    new = await create_post(author, tags=["second"])
    assert new["tags"][0]["id"] > old["tags"][0]["id"]


async def test_a_renamed_tag_loses_surrounding_spaces(
    author: Person, moderator: Person, anon: httpx.AsyncClient
) -> None:
    """A tag created from "  Go  " is named "Go"; a rename must strip the same way, or two tags
    could differ only by spaces nobody sees."""
    await create_post(author, tags=["golang"])
    reply = await moderator.patch("/tags/golang", json={"name": "  Go  "})
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"] == "Go"
    assert (await anon.get("/tags/golang")).json()["name"] == "Go"
    assert_error(
        await moderator.patch("/tags/golang", json={"name": "   "}), 400, "VALIDATION_ERROR"
    )
