"""The shortest walk through the contract: sign up, sign in, publish, read it back."""

from __future__ import annotations

import httpx

from tests.conftest import PASSWORD, Person, assert_error


async def test_sign_up_returns_the_full_view_and_a_location(anon: httpx.AsyncClient) -> None:
    reply = await anon.post(
        "/users",
        json={
            "email": "new@example.com",
            "password": PASSWORD,
            "profile": {"firstName": "New", "lastName": "Person"},
        },
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert reply.headers["location"] == f"/api/v1/users/{body['id']}"
    assert body["email"] == "new@example.com"
    assert body["roles"] == ["user"]
    assert body["settings"] == {"emailNotifications": True}
    assert "password" not in reply.text.lower()


async def test_published_post_is_listed_for_anonymous_readers(
    author: Person, anon: httpx.AsyncClient
) -> None:
    created = await author.post(
        "/posts", json={"title": "Hello", "content": "World", "published": True, "tags": ["News"]}
    )
    assert created.status_code == 201, created.text
    listed = await anon.get("/posts")
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["data"]] == [created.json()["id"]]
    assert listed.json()["pagination"] == {"page": 1, "limit": 20, "total": 1, "totalPages": 1}


async def test_unknown_route_answers_the_envelope(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/nowhere"), 404, "NOT_FOUND")
