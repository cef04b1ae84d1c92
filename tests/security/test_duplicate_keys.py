"""A JSON body that repeats a key in one object is refused (400 naming the key), on every door
that takes JSON: parsers keep the last value, so a proxy or a logger reading the first could
see another request than the one served."""

from __future__ import annotations

import httpx

from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.security.test_races import post_count

JSON = {"Content-Type": "application/json"}


async def test_a_post_body_with_a_repeated_key_is_400_and_creates_nothing(
    author: Person, services: Services
) -> None:
    body = b'{"title": "Shown", "content": "text", "title": "Stored"}'
    reply = await author.http.post("/posts", content=body, headers={**JSON, **author.headers})
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["title"], error
    assert await post_count(services) == 0


async def test_a_repeated_key_in_a_nested_object_is_400(anon: httpx.AsyncClient) -> None:
    body = (
        b'{"email": "dup@example.com", "password": "Correct-Horse-42",'
        b' "profile": {"firstName": "A", "lastName": "B", "lastName": "C"}}'
    )
    error = assert_error(
        await anon.post("/users", content=body, headers=JSON), 400, "VALIDATION_ERROR"
    )
    assert list(error["details"]) == ["lastName"], error


async def test_a_graphql_request_body_with_a_repeated_key_is_400(anon: httpx.AsyncClient) -> None:
    body = b'{"query": "{ tags { totalCount } }", "query": "{ posts { totalCount } }"}'
    reply = await anon.post("http://testserver/graphql", content=body, headers=JSON)
    assert reply.status_code == 400, reply.text
    assert "query" in reply.text


async def test_equal_keys_in_different_objects_are_fine(author: Person) -> None:
    body = b'{"title": "T", "content": "text", "tags": ["a"], "published": true}'
    assert (
        await author.http.post("/posts", content=body, headers={**JSON, **author.headers})
    ).status_code == 201
