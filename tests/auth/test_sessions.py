"""Ending sessions: logout, logout-all, the sessions list and revoking one session.

An access token names its session, so it must stop working the moment that session ends.
"""

from __future__ import annotations

import httpx

from tests.auth.conftest import me_with
from tests.conftest import People, Person, assert_error


async def sessions_of(person: Person) -> list[dict[str, object]]:
    reply = await person.get("/users/me/sessions")
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "no-store"
    data: list[dict[str, object]] = reply.json()["data"]
    return data


async def test_logout_ends_that_session_at_once(
    anon: httpx.AsyncClient, author: Person, people: People
) -> None:
    other = await people.sign_in(author.id, author.email, author.password)
    reply = await anon.post("/auth/logout", json={"refreshToken": author.refresh_token})
    assert reply.status_code == 204
    assert reply.content == b""
    assert reply.headers["cache-control"] == "no-store"
    assert_error(await author.get("/users/me"), 401, "AUTHENTICATION_ERROR")
    refused = await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    assert_error(refused, 401, "AUTHENTICATION_ERROR")
    # The same account's other session is untouched.
    assert (await other.get("/users/me")).status_code == 200


async def test_logout_with_an_unknown_or_spent_session_is_401(
    anon: httpx.AsyncClient, author: Person
) -> None:
    unknown = await anon.post("/auth/logout", json={"refreshToken": "never-issued"})
    assert_error(unknown, 401, "AUTHENTICATION_ERROR")
    assert unknown.headers["www-authenticate"].startswith("Bearer")
    assert (
        await anon.post("/auth/logout", json={"refreshToken": author.refresh_token})
    ).status_code == 204
    again = await anon.post("/auth/logout", json={"refreshToken": author.refresh_token})
    assert_error(again, 401, "AUTHENTICATION_ERROR")


async def test_logout_all_ends_every_session_of_the_caller_only(
    anon: httpx.AsyncClient, author: Person, stranger: Person, people: People
) -> None:
    second = await people.sign_in(author.id, author.email, author.password)
    reply = await author.post("/auth/logout-all")
    assert reply.status_code == 204
    assert reply.headers["cache-control"] == "no-store"
    for token in (author.access_token, second.access_token):
        assert (await me_with(anon, token)).status_code == 401
    for refresh_token in (author.refresh_token, second.refresh_token):
        refused = await anon.post("/auth/refresh", json={"refreshToken": refresh_token})
        assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert (await stranger.get("/users/me")).status_code == 200


async def test_logout_all_needs_a_signed_in_caller(anon: httpx.AsyncClient) -> None:
    reply = await anon.post("/auth/logout-all")
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_sessions_list_shows_the_callers_live_sessions_and_marks_the_current_one(
    author: Person, stranger: Person, people: People
) -> None:
    second = await people.sign_in(author.id, author.email, author.password)
    listed = await sessions_of(author)
    assert len(listed) == 2
    assert {tuple(sorted(s)) for s in listed} == {
        ("createdAt", "current", "id", "ip", "lastUsedAt", "userAgent")
    }
    assert [s["current"] for s in listed].count(True) == 1
    assert [s["current"] for s in (await sessions_of(second))].count(True) == 1
    current = next(s for s in listed if s["current"])
    assert current["id"] != next(s for s in await sessions_of(second) if s["current"])["id"]
    assert str(current["createdAt"]).endswith("Z")
    # A stranger's list holds only the stranger's session.
    assert len(await sessions_of(stranger)) == 1

    assert (
        await author.post("/auth/logout", json={"refreshToken": second.refresh_token})
    ).status_code == 204
    assert [s["id"] for s in await sessions_of(author)] == [current["id"]]


async def test_sessions_list_needs_a_signed_in_caller(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/users/me/sessions"), 401, "AUTHENTICATION_ERROR")


async def test_deleting_one_session_ends_it_and_only_it(
    anon: httpx.AsyncClient, author: Person, people: People
) -> None:
    second = await people.sign_in(author.id, author.email, author.password)
    other_id = next(s["id"] for s in await sessions_of(second) if s["current"])
    assert (await author.delete(f"/users/me/sessions/{other_id}")).status_code == 204
    assert_error(await second.get("/users/me"), 401, "AUTHENTICATION_ERROR")
    refused = await anon.post("/auth/refresh", json={"refreshToken": second.refresh_token})
    assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert (await author.get("/users/me")).status_code == 200
    assert_error(await author.delete(f"/users/me/sessions/{other_id}"), 404, "NOT_FOUND")


async def test_deleting_the_current_session_ends_the_callers_token(author: Person) -> None:
    current_id = next(s["id"] for s in await sessions_of(author) if s["current"])
    assert (await author.delete(f"/users/me/sessions/{current_id}")).status_code == 204
    assert_error(await author.get("/users/me"), 401, "AUTHENTICATION_ERROR")


async def test_someone_elses_session_is_404_and_keeps_working(
    anon: httpx.AsyncClient, author: Person, stranger: Person, admin: Person
) -> None:
    strangers_session = next(s["id"] for s in await sessions_of(stranger) if s["current"])
    for caller in (author, admin):
        reply = await caller.delete(f"/users/me/sessions/{strangers_session}")
        assert_error(reply, 404, "NOT_FOUND")
    assert (await stranger.get("/users/me")).status_code == 200
    assert len(await sessions_of(stranger)) == 1
    assert_error(await author.delete("/users/me/sessions/999999"), 404, "NOT_FOUND")
    assert_error(
        await anon.delete(f"/users/me/sessions/{strangers_session}"), 401, "AUTHENTICATION_ERROR"
    )
    assert (await stranger.get("/users/me")).status_code == 200


async def test_a_session_id_that_is_not_a_number_is_400(author: Person) -> None:
    assert_error(await author.delete("/users/me/sessions/abc"), 400, "VALIDATION_ERROR")
