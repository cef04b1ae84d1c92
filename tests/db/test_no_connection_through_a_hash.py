"""A password hash (20 ms and more of a thread) runs with no pooled connection held.

With a pool of one connection, another request is made while each hash of a sign-in, a sign-up
and a password change is under way, and must be answered: had the hashing request kept its
connection, that request would wait for it until the pool's timeout and answer 503. This is
what a 3.1x p99 rise under 20 sign-ins a second came from (docs/design.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pressroom.services import Services
from tests.conftest import Person


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The wait for a turn at the pool, bounded so that a regression fails in seconds.
    return {"database_pool_size": 1, "database_timeout_seconds": 1.0}


def answer_a_request_during_each_hash(
    services: Services, monkeypatch: pytest.MonkeyPatch, anon: httpx.AsyncClient
) -> list[tuple[int, int]]:
    """(connections checked out, status of a post list asked for meanwhile), for each hash."""
    seen: list[tuple[int, int]] = []
    pool = services.db.engine.sync_engine.pool

    def meanwhile(work: Any) -> Any:
        async def hash_after_another_request(*args: Any) -> Any:
            held = pool.checkedout()  # type: ignore[attr-defined]
            seen.append((held, (await anon.get("/posts")).status_code))
            return await work(*args)

        return hash_after_another_request

    for name in ("verify", "hash"):
        monkeypatch.setattr(services.hasher, name, meanwhile(getattr(services.hasher, name)))
    return seen


async def test_other_requests_are_served_while_passwords_are_hashed(
    services: Services, author: Person, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = answer_a_request_during_each_hash(services, monkeypatch, anon)

    login = {"email": author.email, "password": author.password}
    assert (await anon.post("/auth/login", json=login)).status_code == 200
    sign_up = {
        "email": "new@example.com",
        "password": "Correct-Horse-42",
        "profile": {"firstName": "New", "lastName": "Comer"},
    }
    assert (await anon.post("/users", json=sign_up)).status_code == 201
    change = {"currentPassword": author.password, "newPassword": "Another-Horse-43"}
    assert (await author.post("/users/me/password", json=change)).status_code == 204

    # Sign-in verifies; sign-up hashes; a change verifies the old password, hashes the new one.
    assert seen == [(0, 200)] * 4


async def test_a_graphql_sign_in_holds_no_connection_through_its_hash(
    services: Services, author: Person, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = answer_a_request_during_each_hash(services, monkeypatch, anon)
    mutation = (
        "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } "
        "errors { message } } }"
    )
    variables = {"input": {"email": author.email, "password": author.password}}
    reply = await anon.post(
        "http://testserver/graphql", json={"query": mutation, "variables": variables}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"]["login"]["tokens"]["accessToken"]
    assert seen == [(0, 200)]
