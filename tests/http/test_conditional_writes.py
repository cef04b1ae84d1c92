"""If-Match on PATCH and DELETE of posts, tags and users: a stale tag is 412 and changes nothing,
decided in the write's transaction with the row held (two editors cannot overwrite each other)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.posts.factories import create_post
from tests.security.test_races import (
    postgres_url,
    wait_until_waiting_on_a_lock,
    winner_uncommitted,
)


async def etag(person: Person, url: str) -> str:
    reply = await person.get(url)
    assert reply.status_code == 200, reply.text
    return reply.headers["etag"]


async def test_two_editors_of_a_post_the_second_gets_412_and_changes_nothing(
    author: Person, admin: Person
) -> None:
    post = await create_post(author)
    url = f"/posts/{post['id']}"
    seen_by_author = await etag(author, url)
    seen_by_admin = await etag(admin, url)
    first = await admin.patch(url, json={"title": "Admin's"}, headers={"If-Match": seen_by_admin})
    assert first.status_code == 200, first.text
    second = await author.patch(
        url, json={"title": "Author's"}, headers={"If-Match": seen_by_author}
    )
    assert_error(second, 412, "PRECONDITION_FAILED")
    assert (await author.get(url)).json()["title"] == "Admin's"
    # Read again, the author's edit goes through with the new tag.
    fresh = await etag(author, url)
    third = await author.patch(url, json={"title": "Author's"}, headers={"If-Match": fresh})
    assert third.status_code == 200


async def test_a_stale_delete_is_412_and_the_post_stays(author: Person) -> None:
    post = await create_post(author)
    url = f"/posts/{post['id']}"
    old = await etag(author, url)
    await author.patch(url, json={"content": "changed"})
    assert_error(await author.delete(url, headers={"If-Match": old}), 412, "PRECONDITION_FAILED")
    assert (await author.get(url)).status_code == 200
    reply = await author.delete(url, headers={"If-Match": await etag(author, url)})
    assert reply.status_code == 204


async def test_if_match_star_and_lists(author: Person) -> None:
    post = await create_post(author)
    url = f"/posts/{post['id']}"
    current = await etag(author, url)
    star = await author.patch(url, json={"title": "Star"}, headers={"If-Match": "*"})
    assert star.status_code == 200
    listed = await author.patch(
        url, json={"title": "Listed"}, headers={"If-Match": f'"nope", {star.headers["etag"]}'}
    )
    assert listed.status_code == 200, listed.text
    # A weak tag never matches If-Match (strong comparison).
    weak = await author.patch(url, json={"title": "W"}, headers={"If-Match": f"W/{current}"})
    assert_error(weak, 412, "PRECONDITION_FAILED")


async def test_a_malformed_if_match_is_400(author: Person) -> None:
    post = await create_post(author)
    reply = await author.patch(
        f"/posts/{post['id']}", json={"title": "x"}, headers={"If-Match": "no-quotes"}
    )
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert "If-Match" in error["details"]


async def test_authorization_comes_before_the_precondition(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    """A stale tag does not tell a stranger anything: 403 as without it; a draft stays 404."""
    post = await create_post(author)
    reply = await stranger.patch(
        f"/posts/{post['id']}", json={"title": "x"}, headers={"If-Match": '"stale"'}
    )
    assert_error(reply, 403, "AUTHORIZATION_ERROR")
    draft = await create_post(author, published=False)
    reply = await stranger.delete(f"/posts/{draft['id']}", headers={"If-Match": '"stale"'})
    assert_error(reply, 404, "NOT_FOUND")
    reply = await anon.patch(
        f"/posts/{post['id']}", json={"title": "x"}, headers={"If-Match": '"stale"'}
    )
    assert_error(reply, 401, "AUTHENTICATION_ERROR")


async def test_tags_stale_rename_and_delete_are_412(author: Person, moderator: Person) -> None:
    await create_post(author, tags=["Go"])
    old = await etag(moderator, "/tags/go")
    renamed = await moderator.patch("/tags/go", json={"name": "Golang"}, headers={"If-Match": old})
    assert renamed.status_code == 200, renamed.text
    stale = await moderator.patch("/tags/go", json={"name": "Gopher"}, headers={"If-Match": old})
    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert_error(
        await moderator.delete("/tags/go", headers={"If-Match": old}), 412, "PRECONDITION_FAILED"
    )
    assert (await moderator.get("/tags/go")).json()["name"] == "Golang"
    current = await etag(moderator, "/tags/go")
    assert (await moderator.delete("/tags/go", headers={"If-Match": current})).status_code == 204


async def test_users_stale_update_and_delete_are_412(author: Person, admin: Person) -> None:
    url = f"/users/{author.id}"
    old = await etag(author, url)
    first = await admin.patch(url, json={"profile": {"bio": "by admin"}}, headers={"If-Match": old})
    assert first.status_code == 200, first.text
    second = await author.patch(url, json={"profile": {"bio": "by me"}}, headers={"If-Match": old})
    assert_error(second, 412, "PRECONDITION_FAILED")
    assert_error(await author.delete(url, headers={"If-Match": old}), 412, "PRECONDITION_FAILED")
    assert (await author.get(url)).json()["profile"]["bio"] == "by admin"
    current = await etag(author, url)
    assert (await author.delete(url, headers={"If-Match": current})).status_code == 204


@pytest.mark.postgres_only
async def test_an_edit_waiting_on_a_concurrent_edit_is_judged_after_it(
    author: Person, database_url: str, services: Services
) -> None:
    """Forced interleaving: another transaction holds the post's row and has changed it when
    the PATCH arrives with the tag both editors read. The PATCH must wait for the row, then see
    the other edit and refuse (412); a check made before taking the row would have passed and
    overwritten it."""
    url = postgres_url(database_url)
    post = await create_post(author, title="Original")
    tag = await etag(author, f"/posts/{post['id']}")
    other_edit = (
        f"UPDATE posts SET title = 'Other editor', updated_at = now() WHERE id = {post['id']}"
    )
    async with winner_uncommitted(url, other_edit) as other:
        request = asyncio.create_task(
            author.patch(f"/posts/{post['id']}", json={"title": "Mine"}, headers={"If-Match": tag})
        )
        await wait_until_waiting_on_a_lock(url, request)
        await other.commit()
        reply = await request
    assert_error(reply, 412, "PRECONDITION_FAILED")
    assert (await author.get(f"/posts/{post['id']}")).json()["title"] == "Other editor"


@pytest.mark.postgres_only
async def test_a_user_edit_waiting_on_a_concurrent_edit_is_judged_after_it(
    author: Person, admin: Person, database_url: str
) -> None:
    """The same for an account: the admin's change holds the profile and user rows; the
    owner's PATCH, checked against the tag both read, waits, and is refused once the admin's
    commits, its own profile write undone."""
    url = postgres_url(database_url)
    tag = await etag(author, f"/users/{author.id}")
    admin_edit = (
        f"UPDATE profiles SET bio = 'by admin' WHERE user_id = {author.id}",
        f"UPDATE users SET updated_at = now() WHERE id = {author.id}",
    )
    async with winner_uncommitted(url, *admin_edit) as other:
        request = asyncio.create_task(
            author.patch(
                f"/users/{author.id}", json={"profile": {"bio": "by me"}}, headers={"If-Match": tag}
            )
        )
        await wait_until_waiting_on_a_lock(url, request)
        await other.commit()
        reply = await request
    assert_error(reply, 412, "PRECONDITION_FAILED")
    assert (await author.get(f"/users/{author.id}")).json()["profile"]["bio"] == "by admin"


UPDATE_POST = """
mutation($id: ID!, $version: String) {
  updatePost(id: $id, input: {title: "From GraphQL"}, expectedVersion: $version) {
    post { title version }
    errors { field message code }
  }
}
"""


async def graphql(person: Person, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    reply = await person.http.post(
        "http://testserver/graphql",
        json={"query": query, "variables": variables},
        headers=person.headers,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_graphql_update_post_with_expected_version(author: Person) -> None:
    post = await create_post(author)
    rest_tag = await etag(author, f"/posts/{post['id']}")
    queried = await graphql(
        author, "query($id: ID!) { post(id: $id) { version } }", {"id": post["id"]}
    )
    version = queried["data"]["post"]["version"]
    assert f'"{version}"' == rest_tag  # one version, whichever door reads it
    await author.patch(f"/posts/{post['id']}", json={"content": "changed"})
    stale = await graphql(author, UPDATE_POST, {"id": post["id"], "version": version})
    payload = stale["data"]["updatePost"]
    assert payload["post"] is None
    assert payload["errors"] == [
        {
            "field": "expectedVersion",
            "message": payload["errors"][0]["message"],
            "code": "PRECONDITION_FAILED",
        }
    ]
    assert (await author.get(f"/posts/{post['id']}")).json()["title"] != "From GraphQL"
    current = (await author.get(f"/posts/{post['id']}")).headers["etag"].strip('"')
    fresh = await graphql(author, UPDATE_POST, {"id": post["id"], "version": current})
    assert fresh["data"]["updatePost"]["errors"] == []
    assert fresh["data"]["updatePost"]["post"]["title"] == "From GraphQL"
    # Without expectedVersion the mutation is unconditional, as before.
    plain = await graphql(author, UPDATE_POST, {"id": post["id"], "version": None})
    assert plain["data"]["updatePost"]["errors"] == []
