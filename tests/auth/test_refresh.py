"""POST /auth/refresh: rotation, single use, family revocation and the concurrency window."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from pressroom.db.tables import refresh_tokens, sessions
from pressroom.kit.clock import utcnow
from pressroom.services import Services
from tests.auth.conftest import me_with, sql
from tests.conftest import Person, assert_error

CONCURRENT_REFRESHES = 20


async def refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/auth/refresh", json={"refreshToken": token})


async def rotate(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    reply = await refresh(http, token)
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "no-store"
    pair: dict[str, Any] = reply.json()
    return pair


async def test_refresh_gives_a_new_pair_that_works(anon: httpx.AsyncClient, author: Person) -> None:
    pair = await rotate(anon, author.refresh_token)
    assert pair["refreshToken"] != author.refresh_token
    assert pair["tokenType"] == "Bearer"
    assert (await me_with(anon, pair["accessToken"])).status_code == 200
    # The access token from before the refresh belongs to the same live session.
    assert (await me_with(anon, author.access_token)).status_code == 200


async def test_a_refresh_token_is_single_use(anon: httpx.AsyncClient, author: Person) -> None:
    await rotate(anon, author.refresh_token)
    assert_error(await refresh(anon, author.refresh_token), 401, "AUTHENTICATION_ERROR")


async def test_unknown_refresh_token_is_401(anon: httpx.AsyncClient) -> None:
    reply = await refresh(anon, "not-a-token-we-ever-issued")
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert_error(await anon.post("/auth/refresh", json={}), 400, "VALIDATION_ERROR")


async def test_reused_rotated_token_revokes_the_whole_family(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    first = await rotate(anon, author.refresh_token)
    second = await rotate(anon, first["refreshToken"])
    # `author.refresh_token` is a grandparent of the live token: no grace, the family dies.
    assert_error(await refresh(anon, author.refresh_token), 401, "AUTHENTICATION_ERROR")
    assert_error(await refresh(anon, second["refreshToken"]), 401, "AUTHENTICATION_ERROR")
    assert_error(await me_with(anon, second["accessToken"]), 401, "AUTHENTICATION_ERROR")
    assert_error(await me_with(anon, author.access_token), 401, "AUTHENTICATION_ERROR")


async def test_reuse_after_the_grace_window_revokes_the_family(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    child = await rotate(anon, author.refresh_token)
    eleven_seconds_ago = utcnow() - timedelta(seconds=11)
    await sql(
        services,
        update(refresh_tokens)
        .where(refresh_tokens.c.rotated_at.is_not(None))
        .values(rotated_at=eleven_seconds_ago),
    )
    assert_error(await refresh(anon, author.refresh_token), 401, "AUTHENTICATION_ERROR")
    assert_error(await refresh(anon, child["refreshToken"]), 401, "AUTHENTICATION_ERROR")
    assert_error(await me_with(anon, child["accessToken"]), 401, "AUTHENTICATION_ERROR")


async def test_parent_within_the_window_gets_401_and_changes_nothing(
    anon: httpx.AsyncClient, author: Person
) -> None:
    child = await rotate(anon, author.refresh_token)
    assert_error(await refresh(anon, author.refresh_token), 401, "AUTHENTICATION_ERROR")
    assert (await me_with(anon, child["accessToken"])).status_code == 200
    grandchild = await rotate(anon, child["refreshToken"])
    assert (await me_with(anon, grandchild["accessToken"])).status_code == 200


async def test_a_revoked_family_stays_revoked_inside_the_window(
    anon: httpx.AsyncClient, author: Person
) -> None:
    child = await rotate(anon, author.refresh_token)
    assert (
        await anon.post("/auth/logout", json={"refreshToken": child["refreshToken"]})
    ).status_code == 204
    assert_error(await refresh(anon, author.refresh_token), 401, "AUTHENTICATION_ERROR")
    assert_error(await refresh(anon, child["refreshToken"]), 401, "AUTHENTICATION_ERROR")


async def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(
    anon: httpx.AsyncClient, author: Person
) -> None:
    replies = await asyncio.gather(
        *(refresh(anon, author.refresh_token) for _ in range(CONCURRENT_REFRESHES))
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [401] * (CONCURRENT_REFRESHES - 1)
    for loser in (r for r in replies if r.status_code != 200):
        assert_error(loser, 401, "AUTHENTICATION_ERROR")
    [winner] = [r.json() for r in replies if r.status_code == 200]
    assert (await me_with(anon, winner["accessToken"])).status_code == 200
    assert (await me_with(anon, author.access_token)).status_code == 200
    assert (
        await me_with(anon, (await rotate(anon, winner["refreshToken"]))["accessToken"])
    ).status_code == 200


async def test_refresh_stops_seven_days_after_login_however_often_rotated(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    pair = await rotate(anon, author.refresh_token)
    session = select(sessions.c.created_at, sessions.c.expires_at).where(
        sessions.c.user_id == author.id
    )
    [(created_at, expires_at)] = await sql(services, session)
    assert expires_at - created_at == timedelta(days=7)
    pair = await rotate(anon, pair["refreshToken"])
    assert (await sql(services, session)) == [(created_at, expires_at)]

    await sql(
        services,
        update(sessions)
        .where(sessions.c.user_id == author.id)
        .values(expires_at=utcnow() - timedelta(seconds=1)),
    )
    assert_error(await refresh(anon, pair["refreshToken"]), 401, "AUTHENTICATION_ERROR")
    assert_error(await me_with(anon, pair["accessToken"]), 401, "AUTHENTICATION_ERROR")
    sessions_reply = await anon.get(
        "/users/me/sessions", headers={"Authorization": f"Bearer {pair['accessToken']}"}
    )
    assert_error(sessions_reply, 401, "AUTHENTICATION_ERROR")


async def test_refresh_refuses_unknown_fields(anon: httpx.AsyncClient) -> None:
    reply = await anon.post("/auth/refresh", json={"refreshToken": "x", "userId": 3})
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert error["details"] == {"userId": ["Unknown field"]}


async def test_logout_with_the_parent_of_the_live_token_ends_nothing(
    anon: httpx.AsyncClient, author: Person
) -> None:
    """A rotated token is no longer its holder's credential: logging out with it is a 401,
    not a 204. Within the window, the direct parent of the live token is a retry crossing a
    refresh (docs/api.md exception), so the session goes on."""
    child = await rotate(anon, author.refresh_token)
    refused = await anon.post("/auth/logout", json={"refreshToken": author.refresh_token})
    assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert (await me_with(anon, child["accessToken"])).status_code == 200
    assert (await rotate(anon, child["refreshToken"]))["accessToken"]


async def test_logout_with_a_long_rotated_token_is_reuse_and_ends_the_family(
    anon: httpx.AsyncClient, author: Person, services: Services
) -> None:
    """Outside the window a rotated token presented again is reuse (RFC 9700 §4.14) wherever
    it is presented: the family is revoked, and the answer is still 401, never "logged out"."""
    child = await rotate(anon, author.refresh_token)
    await sql(
        services,
        update(refresh_tokens)
        .where(refresh_tokens.c.rotated_at.is_not(None))
        .values(rotated_at=utcnow() - timedelta(seconds=11)),
    )
    refused = await anon.post("/auth/logout", json={"refreshToken": author.refresh_token})
    assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert_error(await me_with(anon, child["accessToken"]), 401, "AUTHENTICATION_ERROR")
    assert_error(await refresh(anon, child["refreshToken"]), 401, "AUTHENTICATION_ERROR")
