"""On PostgreSQL a request's reads take turns on one pooled connection: the session check and
the service's read no longer check out one each. A request never holds two at once for a write,
and concurrent reads (GraphQL resolves fields together) each still get a connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from pressroom.services import Services
from tests.conftest import Person

QUERY_ME = "{ currentUser { id } }"


@dataclass
class PoolWatch:
    checkouts: int = 0
    held: int = 0
    most_held: int = 0


@contextmanager
def watching_the_pool(services: Services) -> Iterator[PoolWatch]:
    watch = PoolWatch()
    engine = services.db.engine.sync_engine

    def on_checkout(*_: Any) -> None:
        watch.checkouts += 1
        watch.held += 1
        watch.most_held = max(watch.most_held, watch.held)

    def on_checkin(*_: Any) -> None:
        watch.held -= 1

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        yield watch
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)


async def test_a_signed_in_read_checks_out_one_connection(
    services: Services, author: Person, backend: str
) -> None:
    for path in ("/users/me", "/posts", f"/users/{author.id}/posts"):
        with watching_the_pool(services) as watch:
            reply = await author.get(path)
        assert reply.status_code == 200, reply.text
        # SQLite's connections live in the process; each read there keeps its own snapshot.
        assert watch.checkouts == (1 if backend == "postgresql" else 2), path
        assert watch.held == 0  # given back when the request ended


async def test_a_signed_in_graphql_query_checks_out_one_connection(
    services: Services, author: Person, backend: str
) -> None:
    """The GraphQL context takes the request's unit from the same dependency as REST."""
    with watching_the_pool(services) as watch:
        reply = await author.post("http://testserver/graphql", json={"query": QUERY_ME})
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"]["currentUser"]["id"]
    assert watch.checkouts == (1 if backend == "postgresql" else 2)
    assert watch.held == 0


async def test_a_request_that_fails_after_reading_gives_its_connection_back(
    services: Services, author: Person
) -> None:
    with watching_the_pool(services) as watch:
        reply = await author.get("/posts/999999")
    assert reply.status_code == 404
    assert watch.checkouts >= 1
    assert watch.held == 0


async def test_a_write_after_the_session_check_holds_one_connection_at_a_time(
    services: Services, author: Person
) -> None:
    created = await author.post("/posts", json={"title": "One at a time", "content": "x"})
    assert created.status_code == 201
    with watching_the_pool(services) as watch:
        reply = await author.patch(
            f"/posts/{created.json()['id']}", json={"title": "Still one at a time"}
        )
    assert reply.status_code == 200
    assert watch.most_held == 1
    assert watch.held == 0


async def test_concurrent_reads_of_one_request_each_get_a_connection(
    services: Services, author: Person
) -> None:
    for number in range(3):
        reply = await author.post(
            "/posts", json={"title": f"Post {number}", "content": "x", "published": True}
        )
        assert reply.status_code == 201
    query = "{ currentUser { id posts(first: 5) { totalCount } } posts(first: 5) { totalCount } }"
    with watching_the_pool(services) as watch:
        reply = await author.post("http://testserver/graphql", json={"query": query})
    assert reply.status_code == 200
    body = reply.json()
    assert "errors" not in body, body
    assert body["data"]["posts"]["totalCount"] >= 3
    assert body["data"]["currentUser"]["posts"]["totalCount"] == 3
    assert watch.held == 0


async def test_no_connection_is_held_while_a_password_is_hashed(
    services: Services, author: Person, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hash takes 20 ms and more of a thread; a pool held through sign-ins would starve
    every other request (scenario (f) in docs/performance.md)."""
    held_while_hashing: list[int] = []
    pool = services.db.engine.sync_engine.pool

    def watched(work: Any) -> Any:
        async def counting_held_connections(*args: Any) -> Any:
            held_while_hashing.append(pool.checkedout())  # type: ignore[attr-defined]
            return await work(*args)

        return counting_held_connections

    for name in ("verify", "hash"):
        monkeypatch.setattr(services.hasher, name, watched(getattr(services.hasher, name)))
    login = {"email": author.email, "password": author.password}
    assert (await anon.post("/auth/login", json=login)).status_code == 200
    change = {"currentPassword": author.password, "newPassword": "Another-Horse-43"}
    assert (await author.post("/users/me/password", json=change)).status_code == 204
    assert len(held_while_hashing) == 3
    assert held_while_hashing == [0, 0, 0]
