"""X-Request-ID on every reply: echoed when it is a sane token, replaced when it is not."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Person

ROOT = "http://testserver"
GENERATED = re.compile(r"^[0-9a-f]{32}$")


async def test_every_reply_carries_a_request_id(anon: httpx.AsyncClient) -> None:
    for method, url, status in [
        ("GET", "/posts", 200),
        ("GET", "/nowhere", 404),
        ("PUT", "/posts", 405),
        ("GET", "/users/me", 401),
        ("GET", "/posts?limit=0", 400),
        ("POST", "/posts", 401),
        ("GET", f"{ROOT}/healthz", 200),
        ("GET", f"{ROOT}/metrics", 200),
        ("GET", f"{ROOT}/openapi.json", 200),
    ]:
        reply = await anon.request(method, url)
        assert reply.status_code == status
        assert GENERATED.match(reply.headers["x-request-id"])


async def test_a_415_carries_a_request_id(author: Person) -> None:
    headers = {**author.headers, "Content-Type": "text/plain", "X-Request-ID": "trace-415"}
    reply = await author.http.post("/posts", content=b"hi", headers=headers)
    assert reply.status_code == 415
    assert reply.headers["x-request-id"] == "trace-415"


async def test_generated_request_ids_differ(anon: httpx.AsyncClient) -> None:
    first = (await anon.get("/posts")).headers["x-request-id"]
    second = (await anon.get("/posts")).headers["x-request-id"]
    assert first != second


async def test_a_sane_request_id_is_echoed(anon: httpx.AsyncClient) -> None:
    for sane in ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace.id:42_x", "a" * 128]:
        for reply in (
            await anon.get("/posts", headers={"X-Request-ID": sane}),
            await anon.get("/nowhere", headers={"X-Request-ID": sane}),
        ):
            assert reply.headers.get_list("x-request-id") == [sane]


async def test_an_unsafe_request_id_is_replaced(anon: httpx.AsyncClient) -> None:
    for insane in ["a" * 500, "a" * 129, "has space", "semi;colon", 'quote"d', "", "é"]:
        reply = await anon.get("/posts", headers={"X-Request-ID": insane.encode("utf-8")})
        assert reply.status_code == 200
        assert GENERATED.match(reply.headers["x-request-id"])


async def call_raw(app: Any, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A request straight through ASGI, for header bytes an HTTP client refuses to send."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    started: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    await app(scope, receive, send)
    return list(started[0]["headers"])


async def test_a_request_id_with_control_characters_is_replaced(app: Any) -> None:
    for insane in [b"line\nbreak", b"carriage\r\nX-Injected: yes", b"nul\x00byte", b"tab\there"]:
        headers = await call_raw(app, [(b"x-request-id", insane)])
        ids = [value for name, value in headers if name.lower() == b"x-request-id"]
        assert len(ids) == 1
        assert GENERATED.match(ids[0].decode())
        assert all(name.lower() != b"x-injected" for name, _ in headers)
