"""POST /users/me/password: the caller's session stays, every other one ends."""

from __future__ import annotations

import httpx

from tests.auth.conftest import login_status
from tests.conftest import PASSWORD, People, Person, assert_error

NEW_PASSWORD = "Battery-Staple-77"


async def change(person: Person, current: str, new: str) -> httpx.Response:
    return await person.post(
        "/users/me/password", json={"currentPassword": current, "newPassword": new}
    )


async def test_password_change_keeps_the_callers_session_and_ends_the_others(
    anon: httpx.AsyncClient, author: Person, stranger: Person, people: People
) -> None:
    other = await people.sign_in(author.id, author.email, PASSWORD)
    reply = await change(author, PASSWORD, NEW_PASSWORD)
    assert reply.status_code == 204, reply.text
    assert reply.headers["cache-control"] == "no-store"

    assert_error(await other.get("/users/me"), 401, "AUTHENTICATION_ERROR")
    refused = await anon.post("/auth/refresh", json={"refreshToken": other.refresh_token})
    assert_error(refused, 401, "AUTHENTICATION_ERROR")

    assert (await author.get("/users/me")).status_code == 200
    kept = await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    assert kept.status_code == 200, kept.text
    assert (await stranger.get("/users/me")).status_code == 200

    assert await login_status(anon, author.email, PASSWORD) == 401
    assert await login_status(anon, author.email, NEW_PASSWORD) == 200


async def test_wrong_current_password_is_400_on_that_field_and_changes_nothing(
    anon: httpx.AsyncClient, author: Person, people: People
) -> None:
    other = await people.sign_in(author.id, author.email, PASSWORD)
    reply = await change(author, "Not-The-Password-1", NEW_PASSWORD)
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["currentPassword"]
    assert "www-authenticate" not in reply.headers
    assert (await other.get("/users/me")).status_code == 200
    assert await login_status(anon, author.email, PASSWORD) == 200
    assert await login_status(anon, author.email, NEW_PASSWORD) == 401


async def test_a_new_password_that_breaks_the_rule_is_400_and_changes_nothing(
    anon: httpx.AsyncClient, author: Person, people: People
) -> None:
    other = await people.sign_in(author.id, author.email, PASSWORD)
    for weak in ("short1A", "alllowercase1", "Password1", "A" * 120 + "bcdefgh12"):
        error = assert_error(await change(author, PASSWORD, weak), 400, "VALIDATION_ERROR")
        assert list(error["details"]) == ["newPassword"], weak
    assert (await other.get("/users/me")).status_code == 200
    assert await login_status(anon, author.email, PASSWORD) == 200


async def test_password_change_body_is_validated(author: Person) -> None:
    reply = await author.post("/users/me/password", json={"currentPassword": PASSWORD})
    assert "newPassword" in assert_error(reply, 400, "VALIDATION_ERROR")["details"]
    reply = await author.post(
        "/users/me/password",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "userId": 1},
    )
    assert assert_error(reply, 400, "VALIDATION_ERROR")["details"] == {"userId": ["Unknown field"]}


async def test_password_change_needs_a_signed_in_caller(
    anon: httpx.AsyncClient, author: Person
) -> None:
    reply = await anon.post(
        "/users/me/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    )
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert await login_status(anon, author.email, PASSWORD) == 200
