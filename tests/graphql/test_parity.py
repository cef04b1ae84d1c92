"""Both doors agree: the same authorization scenarios through REST and GraphQL give the same
outcome (allowed or refused, with the same error code and message), for the owner, another
user, a moderator, an admin and an anonymous caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import People, Person
from tests.graphql.conftest import Caller, graphql

ACTORS = ("owner", "stranger", "moderator", "admin", "anonymous")
OK = "ok"


@dataclass(frozen=True)
class Outcome:
    """`ok`, or the refusal's code; with the message when the door says one."""

    result: str
    message: str | None = None

    def agrees_with(self, other: Outcome) -> bool:
        if self.result != other.result:
            return False
        return self.message is None or other.message is None or self.message == other.message


def rest(reply: httpx.Response) -> Outcome:
    if reply.status_code < 300:
        return Outcome(OK)
    error = reply.json()["error"]
    return Outcome(error["code"], error["message"])


def payload(body: dict[str, Any], field: str) -> Outcome:
    """A mutation's outcome: its payload's first UserError, if any."""
    assert "errors" not in body, body
    errors = body["data"][field]["errors"]
    if not errors:
        return Outcome(OK)
    return Outcome(errors[0]["code"], errors[0]["message"])


def read(body: dict[str, Any], field: str) -> Outcome:
    """A query's outcome: null is NotFound, a GraphQL error carries its code."""
    if body.get("errors"):
        error = body["errors"][0]
        return Outcome(error["extensions"]["code"], error["message"])
    return Outcome(OK) if body["data"][field] is not None else Outcome("NOT_FOUND")


@dataclass
class Cast:
    people: People
    author: Person
    callers: dict[str, Caller]

    def caller(self, actor: str, owner: Person | None = None) -> Caller:
        return (owner or self.author) if actor == "owner" else self.callers[actor]

    async def post(self, *, published: bool) -> int:
        reply = await self.author.post(
            "/posts", json={"title": "Mine", "content": "Words", "published": published}
        )
        assert reply.status_code == 201, reply.text
        return int(reply.json()["id"])


@pytest.fixture
def cast(
    people: People,
    author: Person,
    stranger: Person,
    moderator: Person,
    admin: Person,
    anon: httpx.AsyncClient,
) -> Cast:
    callers: dict[str, Caller] = {
        "stranger": stranger,
        "moderator": moderator,
        "admin": admin,
        "anonymous": anon,
    }
    return Cast(people, author, callers)


Door = Callable[[Cast, str], Awaitable[Outcome]]


async def compare(cast: Cast, rest_door: Door, graphql_door: Door) -> dict[str, str]:
    """Runs the scenario through both doors for every actor; returns each actor's outcome."""
    results: dict[str, str] = {}
    for actor in ACTORS:
        by_rest = await rest_door(cast, actor)
        by_graphql = await graphql_door(cast, actor)
        assert by_rest.agrees_with(by_graphql), (actor, by_rest, by_graphql)
        results[actor] = by_rest.result
    return results


# --- drafts -----------------------------------------------------------------------------------


async def read_draft_rest(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=False)
    return rest(await cast.caller(actor).get(f"/posts/{post_id}"))


async def read_draft_graphql(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=False)
    body = await graphql(cast.caller(actor), f'{{ post(id: "{post_id}") {{ id title }} }}')
    return read(body, "post")


async def test_drafts_are_visible_to_the_same_people_through_both_doors(cast: Cast) -> None:
    assert await compare(cast, read_draft_rest, read_draft_graphql) == {
        "owner": OK,
        "stranger": "NOT_FOUND",
        "moderator": OK,
        "admin": OK,
        "anonymous": "NOT_FOUND",
    }


async def listed_drafts_rest(cast: Cast, actor: str) -> Outcome:
    reply = await cast.caller(actor).get("/posts", params={"published": "false"})
    return Outcome(",".join(str(p["id"]) for p in reply.json()["data"]) or "none")


async def listed_drafts_graphql(cast: Cast, actor: str) -> Outcome:
    query = "{ posts(filter: {published: false}) { edges { node { id } } } }"
    body = await graphql(cast.caller(actor), query)
    return Outcome(",".join(e["node"]["id"] for e in body["data"]["posts"]["edges"]) or "none")


async def test_draft_lists_agree(cast: Cast) -> None:
    first, second = await cast.post(published=False), await cast.post(published=False)
    await cast.post(published=True)
    both = f"{second},{first}"
    assert await compare(cast, listed_drafts_rest, listed_drafts_graphql) == {
        "owner": both,
        "stranger": "none",
        "moderator": both,
        "admin": both,
        "anonymous": "none",
    }


# --- post edits and deletes -------------------------------------------------------------------


async def edit_post_rest(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=True)
    return rest(await cast.caller(actor).patch(f"/posts/{post_id}", json={"title": "Edited"}))


async def edit_post_graphql(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=True)
    query = f"""mutation {{ updatePost(id: "{post_id}", input: {{title: "Edited"}}) {{
        post {{ title }} errors {{ code message }} }} }}"""
    return payload(await graphql(cast.caller(actor), query), "updatePost")


async def test_post_edits_agree(cast: Cast) -> None:
    assert await compare(cast, edit_post_rest, edit_post_graphql) == {
        "owner": OK,
        "stranger": "AUTHORIZATION_ERROR",
        "moderator": "AUTHORIZATION_ERROR",
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


async def edit_draft_rest(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=False)
    return rest(await cast.caller(actor).patch(f"/posts/{post_id}", json={"published": True}))


async def edit_draft_graphql(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=False)
    query = f"""mutation {{ updatePost(id: "{post_id}", input: {{published: true}}) {{
        post {{ published }} errors {{ code message }} }} }}"""
    return payload(await graphql(cast.caller(actor), query), "updatePost")


async def test_publishing_someone_elses_draft_agrees(cast: Cast) -> None:
    assert await compare(cast, edit_draft_rest, edit_draft_graphql) == {
        "owner": OK,
        "stranger": "NOT_FOUND",
        "moderator": "AUTHORIZATION_ERROR",
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


async def delete_post_rest(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=True)
    return rest(await cast.caller(actor).delete(f"/posts/{post_id}"))


async def delete_post_graphql(cast: Cast, actor: str) -> Outcome:
    post_id = await cast.post(published=True)
    query = f'mutation {{ deletePost(id: "{post_id}") {{ errors {{ code message }} }} }}'
    return payload(await graphql(cast.caller(actor), query), "deletePost")


async def test_post_deletes_agree(cast: Cast) -> None:
    assert await compare(cast, delete_post_rest, delete_post_graphql) == {
        "owner": OK,
        "stranger": "AUTHORIZATION_ERROR",
        "moderator": OK,
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


# --- user updates, role changes, deletes ------------------------------------------------------


async def update_user_rest(cast: Cast, actor: str) -> Outcome:
    body = {"profile": {"bio": f"Set by {actor}"}, "settings": {"emailNotifications": False}}
    return rest(await cast.caller(actor).patch(f"/users/{cast.author.id}", json=body))


async def update_user_graphql(cast: Cast, actor: str) -> Outcome:
    query = f"""mutation {{ updateUser(id: "{cast.author.id}", input: {{
        profile: {{bio: "Set by {actor}"}}, settings: {{emailNotifications: false}} }}) {{
        user {{ id }} errors {{ code message }} }} }}"""
    return payload(await graphql(cast.caller(actor), query), "updateUser")


async def test_user_updates_agree(cast: Cast) -> None:
    assert await compare(cast, update_user_rest, update_user_graphql) == {
        "owner": OK,
        "stranger": "AUTHORIZATION_ERROR",
        "moderator": "AUTHORIZATION_ERROR",
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


async def change_role_rest(cast: Cast, actor: str) -> Outcome:
    target = await cast.people.make()
    body = {"roles": ["user", "moderator"]}
    return rest(await cast.caller(actor, target).patch(f"/users/{target.id}", json=body))


async def change_role_graphql(cast: Cast, actor: str) -> Outcome:
    target = await cast.people.make()
    query = f"""mutation {{ updateUser(id: "{target.id}", input: {{roles: ["user", "moderator"]}})
        {{ user {{ roles }} errors {{ code message }} }} }}"""
    return payload(await graphql(cast.caller(actor, target), query), "updateUser")


async def test_role_changes_agree(cast: Cast) -> None:
    assert await compare(cast, change_role_rest, change_role_graphql) == {
        "owner": "AUTHORIZATION_ERROR",
        "stranger": "AUTHORIZATION_ERROR",
        "moderator": "AUTHORIZATION_ERROR",
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


async def delete_user_rest(cast: Cast, actor: str) -> Outcome:
    target = await cast.people.make()
    return rest(await cast.caller(actor, target).delete(f"/users/{target.id}"))


async def delete_user_graphql(cast: Cast, actor: str) -> Outcome:
    target = await cast.people.make()
    query = f'mutation {{ deleteUser(id: "{target.id}") {{ errors {{ code message }} }} }}'
    return payload(await graphql(cast.caller(actor, target), query), "deleteUser")


async def test_user_deletes_agree(cast: Cast) -> None:
    assert await compare(cast, delete_user_rest, delete_user_graphql) == {
        "owner": OK,
        "stranger": "AUTHORIZATION_ERROR",
        "moderator": "AUTHORIZATION_ERROR",
        "admin": OK,
        "anonymous": "AUTHENTICATION_ERROR",
    }


async def read_user_rest(cast: Cast, actor: str) -> Outcome:
    reply = await cast.caller(actor).get(f"/users/{cast.author.id}")
    if reply.status_code == 200:
        return Outcome("full" if "email" in reply.json() else "public")
    return rest(reply)


async def read_user_graphql(cast: Cast, actor: str) -> Outcome:
    body = await graphql(cast.caller(actor), f'{{ user(id: "{cast.author.id}") {{ email }} }}')
    if body.get("errors"):
        return read(body, "user")
    return Outcome("full" if body["data"]["user"]["email"] else "public")


async def test_who_sees_a_users_email_agrees(cast: Cast) -> None:
    assert await compare(cast, read_user_rest, read_user_graphql) == {
        "owner": "full",
        "stranger": "public",
        "moderator": "public",
        "admin": "full",
        "anonymous": "AUTHENTICATION_ERROR",
    }
