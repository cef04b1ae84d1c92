"""Routes run by kit.routing.DirectRoute's own solver answer exactly as FastAPI's solver does.

GET and DELETE routes (no body) go through DirectRoute's solver; PATCH and POST routes (a body)
through FastAPI's. The same bad path parameter must give the same refusal through either, and
the dependencies (the actor) must still be solved before the path is validated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request, Response

from pressroom.kit.bounds import MAX_ID
from pressroom.kit.routing import api_router
from tests.conftest import Person, assert_error


async def test_a_bad_id_is_refused_alike_by_both_solvers(author: Person) -> None:
    for bad in ["abc", "0", "-1", str(MAX_ID + 1), "1.5"]:
        direct = assert_error(await author.get(f"/posts/{bad}"), 400, "VALIDATION_ERROR")
        framework = assert_error(
            await author.patch(f"/posts/{bad}", json={"title": "T"}), 400, "VALIDATION_ERROR"
        )
        assert direct == framework, bad
        assert set(direct["details"]) == {"post_id"}


async def test_a_bad_slug_and_a_bad_user_id_are_refused_by_name(author: Person) -> None:
    error = assert_error(await author.get("/tags/" + "x" * 51), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"slug"}
    error = assert_error(await author.get("/users/abc/posts"), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"user_id"}


async def test_credentials_are_checked_before_the_path(anon: httpx.AsyncClient) -> None:
    # FastAPI solves a route's dependencies before its own parameters; so does DirectRoute.
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert_error(await anon.get("/posts/abc", headers=bad_token), 401, "AUTHENTICATION_ERROR")
    assert_error(await anon.delete("/posts/abc"), 401, "AUTHENTICATION_ERROR")


async def test_a_good_path_reaches_the_endpoint(author: Person) -> None:
    created = await author.post("/posts", json={"title": "T", "content": "C", "published": True})
    post_id = created.json()["id"]
    changed = await author.patch(f"/posts/{post_id}", json={"title": "T2"})
    reply = await author.get(f"/posts/{post_id}")
    assert reply.status_code == 200
    assert reply.content == changed.content
    assert (await author.delete(f"/posts/{post_id}")).status_code == 204
    assert_error(await author.get(f"/posts/{post_id}"), 404, "NOT_FOUND")


_unit_events: list[str] = []


async def _unit(request: Request) -> AsyncIterator[str]:
    _unit_events.append("enter")
    try:
        yield "unit"
    finally:
        _unit_events.append("exit")


_Unit = Annotated[str, Depends(_unit, scope="function")]


async def test_a_yielding_dependency_is_left_when_the_endpoint_ends_however_it_ends() -> None:
    # The request's unit of work is such a dependency: its connection must go back when the
    # endpoint has returned or raised, as FastAPI's "function" scope promises, on DirectRoute's
    # solver too (or the route would fall back to FastAPI's solver and lose its speed).
    events = _unit_events
    events.clear()
    router = api_router(tags=["test"])

    @router.get("/fine/{n}")
    async def fine(n: int, held: _Unit) -> Response:
        events.append(f"endpoint {held} {n}")
        return Response("ok")

    @router.get("/broken")
    async def broken(held: _Unit) -> Response:
        events.append("endpoint raises")
        raise LookupError("gone")

    app = FastAPI()
    app.include_router(router)

    @app.exception_handler(LookupError)
    async def not_found(_request: Request, _error: Exception) -> Response:
        events.append("handler")
        return Response("missing", status_code=404)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/v1/fine/7")).text == "ok"
        assert events == ["enter", "endpoint unit 7", "exit"]
        events.clear()
        assert (await client.get("/api/v1/broken")).status_code == 404
        assert events == ["enter", "endpoint raises", "exit", "handler"]
        events.clear()
        # A bad path parameter is refused after the dependency was entered, and it is left.
        assert (await client.get("/api/v1/fine/x")).status_code == 422
        assert events == ["enter", "exit"]
