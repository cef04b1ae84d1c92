"""A standard GraphQL client (gql, over httpx) reads every refusal: its code and its message.

Before, a bad token answered 401 with only the REST envelope; gql found neither `data` nor
`errors` in it and raised "401 Unauthorized", the reason lost.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.graphql.conftest import GRAPHQL_URL
from tests.graphql.test_cost import ALIAS_BOMB


async def refusal_seen_by_gql(app: Any, query: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = HTTPXAsyncTransport(
        url=GRAPHQL_URL, transport=httpx.ASGITransport(app=app), headers=headers
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(gql(query))
    return raised.value


async def test_gql_reads_why_a_token_was_refused(app: Any) -> None:
    error = await refusal_seen_by_gql(app, "{ currentUser { id } }", token="not-a-token")
    assert error.errors[0]["extensions"] == {"code": "AUTHENTICATION_ERROR"}
    assert error.errors[0]["message"] in str(error)
    assert "token" in error.errors[0]["message"].lower()


async def test_gql_reads_why_an_operation_was_too_complex(app: Any) -> None:
    error = await refusal_seen_by_gql(app, ALIAS_BOMB)
    assert error.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "exceeds the limit of 10000" in str(error)
