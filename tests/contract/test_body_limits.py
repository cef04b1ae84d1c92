"""Bodies over MAX_BODY_BYTES get 413 in the envelope, announced or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Person, assert_error

MAX_BODY_BYTES = 2048


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_body_bytes": MAX_BODY_BYTES}


def post_body(content_chars: int) -> bytes:
    return b'{"title": "T", "content": "' + b"x" * content_chars + b'"}'


async def test_a_body_within_the_limit_is_accepted(author: Person) -> None:
    raw = post_body(MAX_BODY_BYTES - 100)
    assert len(raw) <= MAX_BODY_BYTES
    headers = {**author.headers, "Content-Type": "application/json"}
    assert (await author.http.post("/posts", content=raw, headers=headers)).status_code == 201


async def test_an_oversized_body_with_content_length_is_413(author: Person, admin: Person) -> None:
    raw = post_body(MAX_BODY_BYTES)
    headers = {**author.headers, "Content-Type": "application/json"}
    reply = await author.http.post("/posts", content=raw, headers=headers)
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")
    assert reply.headers["x-request-id"]
    assert (await admin.get("/posts", params={"published": "false"})).json()["data"] == []


async def test_an_oversized_chunked_body_is_413(author: Person, admin: Person) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "T", "content": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    headers = {**author.headers, "Content-Type": "application/json"}
    reply = await author.http.post("/posts", content=chunks(), headers=headers)
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")
    assert (await admin.get("/posts", params={"published": "false"})).json()["data"] == []


async def test_an_oversized_sign_up_is_413_and_creates_no_one(
    anon: httpx.AsyncClient, admin: Person
) -> None:
    body = {
        "email": "big@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "Big", "lastName": "Body", "bio": "b" * MAX_BODY_BYTES},
    }
    assert_error(await anon.post("/users", json=body), 413, "PAYLOAD_TOO_LARGE")
    listed = await admin.get("/users", params={"q": "Big"})
    assert listed.json()["data"] == []
