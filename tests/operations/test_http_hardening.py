"""Security headers on every reply, TRACE refused, CORS only for listed origins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error

ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"cors_allow_origins": [ALLOWED_ORIGIN]}


def assert_hardened(reply: httpx.Response) -> None:
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "server" not in reply.headers


async def test_replies_carry_security_headers(anon: httpx.AsyncClient, author: Person) -> None:
    assert_hardened(await anon.get("/posts"))
    assert_hardened(await anon.get("/posts/999999"))
    assert_hardened(await author.get("/users/me"))
    assert_hardened(await anon.get("http://testserver/docs"))


async def test_trace_is_refused(anon: httpx.AsyncClient) -> None:
    reply = await anon.request("TRACE", "/posts")
    assert_error(reply, 405, "METHOD_NOT_ALLOWED")
    assert_hardened(reply)


async def test_cors_allows_only_the_listed_origins(anon: httpx.AsyncClient) -> None:
    allowed = await anon.get("/posts", headers={"Origin": ALLOWED_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    other = await anon.get("/posts", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


async def test_cors_preflight_from_another_origin_is_refused_without_reflecting_it(
    anon: httpx.AsyncClient,
) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    ok = await anon.options("/posts", headers={"Origin": ALLOWED_ORIGIN, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    refused = await anon.options("/posts", headers={"Origin": "https://evil.example", **preflight})
    assert_error(refused, 400, "VALIDATION_ERROR")
    assert "access-control-allow-origin" not in refused.headers
