"""OWASP API3 (broken object property level authorization): no write body can set a property
the caller may not set, and no response carries one the caller may not see."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pressroom.services import Services
from tests.conftest import PASSWORD, People, Person, assert_error

# Properties the server owns. Each, in camelCase and snake_case, at the top level and inside
# nested objects, must be an unknown field (400), never applied.
SERVER_OWNED = [
    "roles",
    "emailVerified",
    "email_verified",
    "userId",
    "user_id",
    "publishedAt",
    "published_at",
    "id",
    "passwordHash",
    "password_hash",
    "createdAt",
    "deletedAt",
    "author",
    "postCount",
]
SAMPLE_VALUES: dict[str, Any] = {
    "roles": ["admin"],
    "emailVerified": True,
    "email_verified": True,
    "userId": 1,
    "user_id": 1,
    "publishedAt": "2000-01-01T00:00:00Z",
    "published_at": "2000-01-01T00:00:00Z",
    "id": 1,
    "passwordHash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
    "password_hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
    "createdAt": "2000-01-01T00:00:00Z",
    "deletedAt": None,
    "author": {"id": 1},
    "postCount": 1000,
}

Call = Callable[[dict[str, Any]], Awaitable[httpx.Response]]


class Bodies:
    """Every write route, each with a valid body; an attack adds one field to it."""

    def __init__(self, author: Person, anon: httpx.AsyncClient, post_id: int) -> None:
        self.routes: dict[str, tuple[Call, dict[str, Any]]] = {
            "POST /users": (
                lambda b: anon.post("/users", json=b),
                {
                    "email": "new@example.com",
                    "password": PASSWORD,
                    "profile": {"firstName": "N", "lastName": "P"},
                },
            ),
            "PATCH /users/{id}": (
                lambda b: author.patch(f"/users/{author.id}", json=b),
                {"profile": {"bio": "hi"}, "settings": {"emailNotifications": False}},
            ),
            "POST /users/me/password": (
                lambda b: author.post("/users/me/password", json=b),
                {"currentPassword": "wrong-on-purpose", "newPassword": "Another-Horse-43"},
            ),
            "POST /posts": (
                lambda b: author.post("/posts", json=b),
                {"title": "T", "content": "C", "published": False, "tags": ["a"]},
            ),
            "PATCH /posts/{id}": (
                lambda b: author.patch(f"/posts/{post_id}", json=b),
                {"title": "T2", "content": "C2", "tags": ["b"]},
            ),
            "POST /auth/login": (
                lambda b: anon.post("/auth/login", json=b),
                {"email": author.email, "password": "wrong-on-purpose"},
            ),
            "POST /auth/refresh": (
                lambda b: anon.post("/auth/refresh", json=b),
                {"refreshToken": "not-a-real-token"},
            ),
            "POST /auth/logout": (
                lambda b: anon.post("/auth/logout", json=b),
                {"refreshToken": "not-a-real-token"},
            ),
        }


def nested(body: dict[str, Any], name: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """(expected error path, body) for the field at the top level and in each nested object."""
    placed = [(name, {**body, name: value})]
    for key, inner in body.items():
        if isinstance(inner, dict):
            placed.append((f"{key}.{name}", {**body, key: {**inner, name: value}}))
    return placed


async def test_server_owned_properties_are_refused_in_every_write_body(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    post = (await author.post("/posts", json={"title": "P", "content": "C"})).json()
    routes = Bodies(author, anon, post["id"]).routes
    before_user = (await author.get("/users/me")).json()
    failures = []
    for route, (call, body) in routes.items():
        for name in SERVER_OWNED:
            if name in body or (route == "PATCH /users/{id}" and name == "roles"):
                continue  # a field the route takes; covered by the role tests
            for path, attack in nested(body, name, SAMPLE_VALUES[name]):
                reply = await call(attack)
                error = reply.json().get("error", {})
                if reply.status_code != 400 or error.get("details", {}).get(path) != [
                    "Unknown field"
                ]:
                    failures.append(f"{route} {path}: {reply.status_code} {reply.text[:150]}")
    assert failures == []
    assert (await author.get("/users/me")).json() == before_user
    assert (await author.get(f"/posts/{post['id']}")).json() == post


async def test_user_cannot_grant_themself_a_role(author: Person) -> None:
    for roles in (["admin"], ["user", "admin"], ["moderator"], ["user"]):
        reply = await author.patch(f"/users/{author.id}", json={"roles": roles})
        assert_error(reply, 403, "AUTHORIZATION_ERROR")
    assert (await author.get("/users/me")).json()["roles"] == ["user"]


async def test_moderator_cannot_grant_a_role(moderator: Person, author: Person) -> None:
    for target in (moderator, author):
        reply = await moderator.patch(f"/users/{target.id}", json={"roles": ["admin"]})
        assert_error(reply, 403, "AUTHORIZATION_ERROR")


async def test_unknown_role_is_a_validation_error(admin: Person, author: Person) -> None:
    for roles in (["root"], ["user", "user"], [], ["ADMIN"]):
        reply = await admin.patch(f"/users/{author.id}", json={"roles": roles})
        assert_error(reply, 400, "VALIDATION_ERROR")


async def test_sign_up_never_grants_more_than_the_user_role(anon: httpx.AsyncClient) -> None:
    reply = await anon.post(
        "/users",
        json={
            "email": "self-made@example.com",
            "password": PASSWORD,
            "profile": {"firstName": "Self", "lastName": "Made"},
        },
    )
    assert reply.status_code == 201
    assert reply.json()["roles"] == ["user"]
    assert reply.json()["emailVerified"] is False


HASH_PATTERN = re.compile(r"\$(argon2(id|i|d)?|2[aby]?)\$")


def assert_no_secrets(reply: httpx.Response) -> None:
    text = reply.text
    assert not HASH_PATTERN.search(text), text[:300]
    for word in ("password", "Hash", "hash", "deletedAt", "deleted_at", "tokenHash"):
        assert word not in text, (word, text[:300])


async def test_other_users_email_roles_and_settings_never_appear(
    people: People, author: Person, stranger: Person, services: Services
) -> None:
    post = (
        await author.post(
            "/posts", json={"title": "Hello", "content": "x", "published": True, "tags": ["t"]}
        )
    ).json()
    await author.post("/posts", json={"title": "Draft", "content": "x"})
    urls = [
        f"/users/{author.id}",
        "/users",
        "/users?q=Ada",
        "/posts",
        f"/posts/{post['id']}",
        f"/users/{author.id}/posts",
        "/tags",
        "/tags/t",
        "/tags/t/posts",
    ]
    for url in urls:
        reply = await stranger.get(url)
        assert reply.status_code == 200, (url, reply.text)
        assert author.email not in reply.text, url
        assert_no_secrets(reply)
        body = reply.json()
        for item in body.get("data", [body]):
            if url.startswith("/users") and "posts" not in url and item.get("id") != stranger.id:
                assert set(item) == {"id", "profile", "createdAt"}, (url, item)
            author_view = item.get("author")
            if author_view is not None:
                assert set(author_view) == {"id", "profile"}, (url, author_view)


async def test_own_views_carry_no_hash_or_token_digest(author: Person) -> None:
    for url in ("/users/me", f"/users/{author.id}", "/users/me/sessions", "/users"):
        reply = await author.get(url)
        assert reply.status_code == 200, reply.text
        assert_no_secrets(reply)


async def test_plain_user_cannot_search_or_sort_users_by_email(
    author: Person, stranger: Person
) -> None:
    # A search that matched emails would tell a stranger which emails have accounts.
    local_part = author.email.split("@")[0]
    for q in (author.email, local_part, "example.com", "@"):
        reply = await stranger.get("/users", params={"q": q})
        assert reply.status_code == 200
        assert author.id not in [u["id"] for u in reply.json()["data"]], q
    assert_error(await stranger.get("/users?sort=email"), 403, "AUTHORIZATION_ERROR")
    assert_error(await stranger.get("/users?sort=-email"), 403, "AUTHORIZATION_ERROR")
    assert_error(await stranger.get("/users?role=admin"), 403, "AUTHORIZATION_ERROR")


async def test_manager_sees_the_full_view(author: Person, admin: Person) -> None:
    reply = await admin.get(f"/users/{author.id}")
    assert reply.json()["email"] == author.email
    assert_no_secrets(reply)
