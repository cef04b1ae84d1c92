"""Limits refuse expensive documents before any resolver runs; errors never leak internals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from strawberry.extensions.parser_cache import _get_parse_cache

from pressroom.graphql.schema import DOCUMENT_CACHE_SIZE
from pressroom.services import Services
from tests.conftest import Person
from tests.graphql.conftest import data_of, error_codes, graphql, graphql_reply

TOO_DEEP = """{ posts { edges { node { author { posts { edges { node {
    author { posts { edges { node { id } } } } } } } } } } } }"""  # 12 levels
ELEVEN_ALIASES_PLUS = "{ " + " ".join(f"a{n}: currentUser {{ id }}" for n in range(16)) + " }"


def refused_before_running(body: dict[str, Any], counter: Any) -> None:
    assert body["data"] is None
    assert body["errors"]
    assert counter.count == 0, counter.statements


async def test_over_deep_query_is_refused_before_any_sql(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    with count_statements() as counter:
        body = await graphql(anon, TOO_DEEP)
    refused_before_running(body, counter)
    assert "exceeds maximum operation depth of 10" in body["errors"][0]["message"]
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_depth_ten_is_allowed(anon: httpx.AsyncClient) -> None:
    query = "{ posts { edges { node { author { posts { edges { node { tags { slug } } } } } } } } }"
    assert await data_of(anon, query) == {"posts": {"edges": []}}


async def test_over_aliased_query_is_refused_before_any_sql(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    with count_statements() as counter:
        body = await graphql(anon, ELEVEN_ALIASES_PLUS)
    refused_before_running(body, counter)
    assert body["errors"][0]["message"] == "16 aliases found. Allowed: 15"


async def test_oversized_query_is_refused_before_parsing(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    query = "{ posts { totalCount } }\n#" + "x" * 17_000
    with count_statements() as counter:
        body = await graphql(anon, query)
    refused_before_running(body, counter)
    assert error_codes(body) == ["QUERY_TOO_LARGE"]


async def test_query_with_too_many_tokens_is_refused(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    allowed = "{ posts { " + "totalCount " * 300 + "} }"
    fields = "{ " + "posts { totalCount } " * 700 + "}"  # 2,800 tokens, under the byte cap
    assert len(fields.encode()) < 16 * 1024
    with count_statements() as counter:
        body = await graphql(anon, fields)
    refused_before_running(body, counter)
    assert "tokens" in body["errors"][0]["message"]
    assert "errors" not in await graphql(anon, allowed)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ posts(first: 101) { totalCount } }", None),
        ("query($n: Int) { posts(first: $n) { totalCount } }", {"n": 500}),
        ("{ users(pagination: {first: 1000}) { totalCount } }", None),
        (
            "query($p: PaginationInput) { users(pagination: $p) { totalCount } }",
            {"p": {"first": 101}},
        ),
        ("{ tags(first: -1) { totalCount } }", None),
        ("{ ...Lists } fragment Lists on Query { posts(first: 101) { totalCount } }", None),
        (
            "{ tags(first: 1) { totalCount } ... on Query { posts(first: 500) { totalCount } } }",
            None,
        ),
        (
            "{ posts { edges { node { author { posts(first: 101) { totalCount } } } } } }",
            None,
        ),
    ],
)
async def test_first_over_100_is_a_clear_error_before_any_sql(
    anon: httpx.AsyncClient, count_statements: Any, query: str, variables: dict[str, Any] | None
) -> None:
    with count_statements() as counter:
        body = await graphql(anon, query, variables)
    refused_before_running(body, counter)
    assert error_codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["message"].startswith("`first` must be between 0 and 100")


async def test_unexpected_errors_are_masked(
    anon: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> None:
        raise RuntimeError('SELECT password_hash FROM users -- File "/srv/app.py", line 1')

    monkeypatch.setattr(services.tags, "list_slice", broken)
    reply = await graphql_reply(anon, "{ tags { totalCount } }")
    body = reply.json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "An unexpected error occurred",
            "locations": [{"line": 1, "column": 3}],
            "path": ["tags"],
            "extensions": {"code": "INTERNAL_ERROR"},
        }
    ]
    for leak in ("SELECT", "password_hash", "/srv", "Traceback", "RuntimeError"):
        assert leak not in reply.text


async def test_repeated_documents_are_parsed_once(author: Person) -> None:
    cache = _get_parse_cache(DOCUMENT_CACHE_SIZE)
    query = "{ currentUser { id profile { firstName } } }  # cache probe"
    await data_of(author, query)
    hits = cache.cache_info().hits
    await data_of(author, query)
    assert cache.cache_info().hits == hits + 1


async def test_fragments_spreading_fragments_are_measured_not_expanded(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    """Forty fragments, each spreading the next twice: 1.6 KB that expands to 2**40 fields.
    Strawberry's depth and alias rules expanded every spread (5.7 s of CPU at twenty, double
    for each one more, so this one never finished); measured once per fragment, it is refused
    by its cost before anything runs."""
    chain = " ".join(f"fragment F{n} on Post {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40))
    query = f'{{ post(id: "1") {{ ...F0 }} }} {chain} fragment F40 on Post {{ id }}'
    with count_statements() as counter:
        body = await graphql(anon, query)
    refused_before_running(body, counter)
    assert body["errors"][0]["extensions"]["cost"] == 1 + 2**40


async def test_aliases_in_fragments_count_once_per_spread(anon: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{n}: currentUser {{ id }}" for n in range(4))
    fragment = f"fragment A on Query {{ {aliases} }}"
    assert await data_of(anon, "{ ...A ...A ...A } " + fragment) == {
        f"a{n}": None for n in range(4)
    }
    body = await graphql(anon, "{ ...A ...A ...A ... on Query { ...A } } " + fragment)
    assert body["errors"][0]["message"] == "16 aliases found. Allowed: 15"
