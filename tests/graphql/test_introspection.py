"""Introspection (and field suggestions, which spell out the schema) follow the setting."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql.conftest import data_of, graphql


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"graphql_introspection": False}


async def test_introspection_is_refused_when_disabled(anon: httpx.AsyncClient) -> None:
    body = await graphql(anon, "{ __schema { types { name } } }")
    assert body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_no_field_suggestions_when_introspection_is_disabled(
    anon: httpx.AsyncClient,
) -> None:
    body = await graphql(anon, "{ post { titl } }")
    assert "Did you mean" not in str(body)


async def test_plain_queries_still_work(anon: httpx.AsyncClient) -> None:
    assert await data_of(anon, "{ posts { totalCount } }") == {"posts": {"totalCount": 0}}
