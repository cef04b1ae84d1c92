"""OWASP API5 (broken function level authorization): every mutating route, called by each kind
of caller, answers exactly the status the contract gives that caller (docs/api.md).

Callers: anonymous, a plain user who does not own the target, the target's owner, a
moderator and an admin. Each call acts on a fresh target, so one success cannot hide another.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pressroom.auth.permissions import Role
from tests.conftest import PASSWORD, People, Person

CALLERS = ("anonymous", "user", "owner", "moderator", "admin")
_unique = itertools.count(1)


@dataclass
class Caller:
    """Sends requests as one kind of caller: with a token, or none for anonymous."""

    http: httpx.AsyncClient
    person: Person | None

    async def send(self, method: str, url: str, json: Any = None) -> httpx.Response:
        headers = self.person.headers if self.person else {}
        return await self.http.request(method, url, json=json, headers=headers)


@dataclass
class World:
    people: People
    anon: httpx.AsyncClient
    callers: dict[str, Person | None]

    def caller(self, kind: str, owner: Person) -> Caller:
        return Caller(self.anon, owner if kind == "owner" else self.callers[kind])

    async def person(self, role: Role = Role.USER) -> Person:
        return await self.people.make(role)

    async def post(self, owner: Person, *, published: bool = True, tag: str | None = None) -> int:
        body = {"title": "T", "content": "C", "published": published, "tags": [tag] if tag else []}
        reply = await owner.post("/posts", json=body)
        assert reply.status_code == 201, reply.text
        return int(reply.json()["id"])

    async def tag(self, owner: Person) -> str:
        name = f"Tag {next(_unique)}"
        await self.post(owner, tag=name)
        return name.lower().replace(" ", "-")


# (owner of the target, method, url, body) for one call; built fresh for every caller.
Scenario = Callable[[World], Awaitable[tuple[Person, str, str, Any]]]


async def _patch_user(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "PATCH", f"/users/{owner.id}", {"profile": {"bio": "changed"}}


async def _patch_user_roles(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "PATCH", f"/users/{owner.id}", {"roles": ["user", "moderator"]}


async def _delete_user(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "DELETE", f"/users/{owner.id}", None


async def _change_password(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    body = {"currentPassword": PASSWORD, "newPassword": "Another-Horse-43"}
    return owner, "POST", "/users/me/password", body


async def _end_own_session(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    session_id = (await owner.get("/users/me/sessions")).json()["data"][0]["id"]
    return owner, "DELETE", f"/users/me/sessions/{session_id}", None


async def _logout_all(w: World) -> tuple[Person, str, str, Any]:
    return await w.person(), "POST", "/auth/logout-all", None


async def _request_verification(w: World) -> tuple[Person, str, str, Any]:
    return await w.person(), "POST", "/auth/email-verification", None


async def _request_email_change(w: World) -> tuple[Person, str, str, Any]:
    body = {"newEmail": f"moved{next(_unique)}@example.com", "currentPassword": PASSWORD}
    return await w.person(), "POST", "/users/me/email", body


async def _create_post(w: World) -> tuple[Person, str, str, Any]:
    return await w.person(), "POST", "/posts", {"title": "New", "content": "C"}


async def _patch_post(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "PATCH", f"/posts/{await w.post(owner)}", {"title": "Changed"}


async def _publish_draft(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "PATCH", f"/posts/{await w.post(owner, published=False)}", {"published": True}


async def _delete_post(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "DELETE", f"/posts/{await w.post(owner)}", None


async def _delete_draft(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "DELETE", f"/posts/{await w.post(owner, published=False)}", None


async def _patch_tag(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    slug = await w.tag(owner)
    return owner, "PATCH", f"/tags/{slug}", {"name": f"Renamed {next(_unique)}"}


async def _delete_tag(w: World) -> tuple[Person, str, str, Any]:
    owner = await w.person()
    return owner, "DELETE", f"/tags/{await w.tag(owner)}", None


# The contract, route by route: anonymous, plain user (not the owner), owner, moderator, admin.
# "owner" of a tag is the author of the post that created it; tags have no owner in the
# contract, so the owner is treated as any plain user.
MATRIX: dict[str, tuple[Scenario, dict[str, int]]] = {
    "PATCH /users/{id}": (
        _patch_user,
        {"anonymous": 401, "user": 403, "owner": 200, "moderator": 403, "admin": 200},
    ),
    "PATCH /users/{id} roles": (
        _patch_user_roles,
        {"anonymous": 401, "user": 403, "owner": 403, "moderator": 403, "admin": 200},
    ),
    "DELETE /users/{id}": (
        _delete_user,
        {"anonymous": 401, "user": 403, "owner": 204, "moderator": 403, "admin": 204},
    ),
    "POST /users/me/password": (
        _change_password,
        {"anonymous": 401, "owner": 204},
    ),
    "DELETE /users/me/sessions/{id}": (
        _end_own_session,
        {"anonymous": 401, "user": 404, "owner": 204, "moderator": 404, "admin": 404},
    ),
    "POST /auth/logout-all": (
        _logout_all,
        {"anonymous": 401, "owner": 204},
    ),
    "POST /auth/email-verification": (
        _request_verification,
        {"anonymous": 401, "owner": 202},
    ),
    "POST /users/me/email": (
        _request_email_change,
        {"anonymous": 401, "owner": 202},
    ),
    "POST /posts": (
        _create_post,
        {"anonymous": 401, "owner": 201},
    ),
    "PATCH /posts/{id}": (
        _patch_post,
        {"anonymous": 401, "user": 403, "owner": 200, "moderator": 403, "admin": 200},
    ),
    "PATCH /posts/{id} publish a draft": (
        _publish_draft,
        {"anonymous": 401, "user": 404, "owner": 200, "moderator": 403, "admin": 200},
    ),
    "DELETE /posts/{id}": (
        _delete_post,
        {"anonymous": 401, "user": 403, "owner": 204, "moderator": 204, "admin": 204},
    ),
    "DELETE /posts/{id} of a draft": (
        _delete_draft,
        {"anonymous": 401, "user": 404, "owner": 204, "moderator": 204, "admin": 204},
    ),
    "PATCH /tags/{slug}": (
        _patch_tag,
        {"anonymous": 401, "user": 403, "owner": 403, "moderator": 200, "admin": 200},
    ),
    "DELETE /tags/{slug}": (
        _delete_tag,
        {"anonymous": 401, "user": 403, "owner": 403, "moderator": 204, "admin": 204},
    ),
}
# Routes without a foreign target (they act on the caller): every signed-in kind is its owner.
_SELF_ROUTES = {
    "POST /users/me/password",
    "POST /auth/logout-all",
    "POST /posts",
    "POST /auth/email-verification",
    "POST /users/me/email",
}


@pytest.mark.parametrize("route", MATRIX.keys())
async def test_each_caller_gets_the_status_the_contract_gives(
    route: str, people: People, anon: httpx.AsyncClient, moderator: Person, admin: Person
) -> None:
    scenario, expected = MATRIX[route]
    stranger = await people.make(Role.USER)
    world = World(
        people, anon, {"anonymous": None, "user": stranger, "moderator": moderator, "admin": admin}
    )
    got = {}
    for kind in expected:
        owner, method, url, body = await scenario(world)
        if route in _SELF_ROUTES and kind != "anonymous":
            caller = Caller(anon, owner)
        else:
            caller = world.caller(kind, owner)
        reply = await caller.send(method, url, body)
        got[kind] = reply.status_code
        if reply.status_code >= 400:
            assert set(reply.json()) == {"error"}, reply.text
    assert got == expected


async def test_signed_in_moderator_and_admin_are_also_owners_of_self_routes(
    moderator: Person, admin: Person
) -> None:
    for person in (moderator, admin):
        reply = await person.post("/posts", json={"title": "Mine", "content": "C"})
        assert reply.status_code == 201
        reply = await person.post("/auth/email-verification")
        assert reply.status_code == 202
        reply = await person.post(
            "/users/me/email",
            json={"newEmail": f"new-{person.email}", "currentPassword": PASSWORD},
        )
        assert reply.status_code == 202
        reply = await person.post(
            "/users/me/password",
            json={"currentPassword": PASSWORD, "newPassword": "Another-Horse-43"},
        )
        assert reply.status_code == 204


async def test_anyone_may_sign_up_even_when_signed_in(
    anon: httpx.AsyncClient, author: Person, admin: Person
) -> None:
    for index, caller in enumerate((Caller(anon, None), Caller(anon, author), Caller(anon, admin))):
        body = {
            "email": f"signup{index}@example.com",
            "password": PASSWORD,
            "profile": {"firstName": "S", "lastName": "U"},
        }
        reply = await caller.send("POST", "/users", body)
        assert reply.status_code == 201, reply.text
        assert reply.json()["roles"] == ["user"]


async def test_the_token_routes_answer_every_caller_alike(
    anon: httpx.AsyncClient, author: Person, moderator: Person, admin: Person
) -> None:
    # Anyone may use them, signed in or not, whatever the role: the token alone decides.
    calls = [
        ("/auth/password-reset", {"email": "nobody@example.com"}),
        ("/auth/verify-email", {"token": "not-a-token"}),
        ("/auth/password-reset/confirm", {"token": "not-a-token", "newPassword": PASSWORD}),
        ("/auth/email-change/confirm", {"token": "not-a-token"}),
    ]
    answers = {}
    for caller in (
        Caller(anon, None),
        Caller(anon, author),
        Caller(anon, moderator),
        Caller(anon, admin),
    ):
        answers[caller.person.email if caller.person else "anonymous"] = [
            (reply.status_code, reply.json())
            for reply in [await caller.send("POST", url, body) for url, body in calls]
        ]
    first, *others = answers.values()
    assert [status for status, _ in first] == [202, 400, 400, 400]
    assert all(other == first for other in others)
