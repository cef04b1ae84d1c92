"""GraphQL test helpers: send an operation as an actor, read `data` and `errors`."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Person

GRAPHQL_URL = "http://testserver/graphql"
Caller = Person | httpx.AsyncClient


async def graphql_reply(
    caller: Caller, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await caller.post(GRAPHQL_URL, json=body)


async def graphql(
    caller: Caller, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The reply body of an operation that HTTP accepted (200), errors or not."""
    reply = await graphql_reply(caller, query, variables)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def data_of(
    caller: Caller, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`data` of an operation that must succeed without any error."""
    body = await graphql(caller, query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def assert_refusal(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A request refused as a whole: the error envelope of every non-2xx response, and the
    same refusal as a GraphQL `errors` entry, which standard GraphQL clients read."""
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    assert error_codes(body) == [code], body
    assert body["errors"][0]["message"] == body["error"]["message"]
    return body
