"""A database cut answers GraphQL as it answers REST: 503 SERVICE_UNAVAILABLE with Retry-After,
never a masked INTERNAL_ERROR; and the service recovers by itself.

The link to PostgreSQL goes through a TCP proxy that the test cuts (tests/operations).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from pressroom.app import create_app
from tests.conftest import API, PASSWORD, make_settings, throwaway_postgres_database
from tests.graphql.conftest import GRAPHQL_URL, assert_refusal
from tests.operations.processes import TcpProxy

POSTS = {"query": "{ posts { totalCount } }"}
ME = {"query": "{ currentUser { id } }"}


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    parsed = make_url(postgres_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as running:
        yield running


@pytest.fixture
async def http(postgres_url: str, proxy: TcpProxy) -> AsyncIterator[httpx.AsyncClient]:
    proxied = make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(
        proxied, database_timeout_seconds=2, database_command_timeout_seconds=3
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=API, timeout=15
    ) as client:
        yield client
    await app.state.services.close()


async def sign_in(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    profile = {"firstName": "O", "lastName": "U"}
    created = await http.post(
        "/users", json={"email": email, "password": PASSWORD, "profile": profile}
    )
    assert created.status_code == 201, created.text
    reply = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {reply.json()['accessToken']}"}


def assert_unavailable(reply: httpx.Response) -> None:
    body = assert_refusal(reply, 503, "SERVICE_UNAVAILABLE")
    assert int(reply.headers["retry-after"]) >= 1
    assert "postgres" not in reply.text.lower()
    assert body.get("data") is None


async def test_a_database_cut_answers_graphql_with_503(
    http: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    headers = await sign_in(http)
    assert (await http.post(GRAPHQL_URL, json=POSTS)).json()["data"]["posts"]["totalCount"] == 0
    proxy.cut()
    # Anonymous: the resolver's query fails. Signed in: checking the session fails first.
    assert_unavailable(await http.post(GRAPHQL_URL, json=POSTS))
    assert_unavailable(await http.post(GRAPHQL_URL, json=ME, headers=headers))
    proxy.restore()
    assert (await http.post(GRAPHQL_URL, json=POSTS)).json() == {
        "data": {"posts": {"totalCount": 0}}
    }
    reply = await http.post(GRAPHQL_URL, json=ME, headers=headers)
    assert reply.json()["data"]["currentUser"]["id"]
