"""Outages: a TCP proxy between the service and PostgreSQL or Redis is cut, then restored.

The machine's own servers keep running; only the proxied link dies. Every request in these
tests runs under a client timeout, so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from pressroom.app import create_app
from pressroom.services import Services
from tests.conftest import (
    API,
    PASSWORD,
    REDIS_TEST_URL,
    assert_error,
    make_settings,
    service_missing,
    throwaway_postgres_database,
)
from tests.operations.processes import TcpProxy

# The longest any request may take while a dependency is down: connect timeout plus slack.
CLIENT_TIMEOUT_SECONDS = 15.0
RECOVERY_ATTEMPTS = 40


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture
def database_proxy(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:
    parsed = make_url(postgres_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        yield proxy, parsed.set(port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def redis_proxy() -> Iterator[tuple[TcpProxy, str]]:
    parsed = make_url(REDIS_TEST_URL)
    probe = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        probe.ping()
    except (OSError, redis.RedisError) as error:
        service_missing("Redis", error)
    finally:
        probe.close()
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 6379) as proxy:
        yield proxy, f"redis://127.0.0.1:{proxy.port}/{parsed.database or 0}"


async def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=API, timeout=CLIENT_TIMEOUT_SECONDS
    )


@pytest.fixture
async def outage_app(
    postgres_url: str, database_proxy: tuple[TcpProxy, str], request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    _, proxied_url = database_proxy
    overrides: dict[str, Any] = getattr(request, "param", {})
    app = create_app(
        make_settings(
            proxied_url,
            database_timeout_seconds=2,
            database_command_timeout_seconds=3,
            **overrides,
        )
    )
    yield app
    await app.state.services.close()


async def sign_up(http: httpx.AsyncClient, email: str) -> httpx.Response:
    return await http.post(
        "/users",
        json={"email": email, "password": PASSWORD, "profile": {"firstName": "O", "lastName": "U"}},
    )


async def signed_in(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    assert (await sign_up(http, email)).status_code == 201
    reply = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['accessToken']}"}


def assert_unavailable(reply: httpx.Response) -> None:
    assert_error(reply, 503, "SERVICE_UNAVAILABLE")
    assert int(reply.headers["retry-after"]) >= 1


async def eventually_ok(http: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    for _ in range(RECOVERY_ATTEMPTS):
        reply = await http.get(url, **kwargs)
        if reply.status_code == 200:
            return reply
        assert reply.status_code == 503, reply.text
        await asyncio.sleep(0.25)
    pytest.fail(f"{url} did not recover: {reply.status_code} {reply.text}")


async def test_database_cut_answers_503_and_recovers_by_itself(
    outage_app: Any, database_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, _ = database_proxy
    async with await client_for(outage_app) as http:
        headers = await signed_in(http)
        assert (await http.get("/posts")).status_code == 200

        proxy.cut()
        assert_unavailable(await http.get("/users/me", headers=headers))
        assert_unavailable(await http.get("/posts"))
        assert_unavailable(await http.get("http://testserver/readyz"))
        # New connections hang at a dead host: the connect timeout ends them, still a 503.
        assert_unavailable(await http.get("/tags"))
        assert (await http.get("http://testserver/healthz")).status_code == 200

        proxy.restore()
        # Pooled connections the cut killed are replaced at checkout: the next request works.
        assert (await http.get("/users/me", headers=headers)).status_code == 200
        assert (await http.get("/posts")).status_code == 200
        assert (await http.get("http://testserver/readyz")).status_code == 200


async def test_a_write_cut_midway_leaves_nothing_half_written(
    outage_app: Any, database_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, _ = database_proxy
    services: Services = outage_app.state.services
    email = f"half-{uuid.uuid4().hex[:8]}@example.com"

    def cut_after_the_user_row(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The users row is already inserted in this transaction; the link dies before the next.
        if statement.lstrip().upper().startswith("INSERT INTO PROFILES"):
            proxy.cut()

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", cut_after_the_user_row)
    async with await client_for(outage_app) as http:
        try:
            assert (await http.get("http://testserver/readyz")).status_code == 200
            assert_unavailable(await sign_up(http, email))
        finally:
            event.remove(engine, "before_cursor_execute", cut_after_the_user_row)
        proxy.restore()
        await eventually_ok(http, "http://testserver/readyz")
        async with services.db.read() as conn:
            users = await conn.scalar(
                text("SELECT count(*) FROM users WHERE email = :email"), {"email": email}
            )
        assert users == 0
        # The same sign-up now goes through: no leftover row claims the email.
        assert (await sign_up(http, email)).status_code == 201
        reply = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert reply.status_code == 200


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"pressroom-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
async def redis_outage_app(
    postgres_url: str, redis_proxy: tuple[TcpProxy, str], redis_prefix: str
) -> AsyncIterator[Any]:
    _, proxied_redis = redis_proxy
    app = create_app(
        make_settings(
            postgres_url,
            redis_url=proxied_redis,
            redis_key_prefix=redis_prefix,
            redis_timeout_seconds=0.5,
            rate_limits_enabled=True,
        )
    )
    yield app
    await app.state.services.close()


async def test_redis_cut_fails_session_checks_closed_and_limits_fall_back_in_process(
    redis_outage_app: Any, redis_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, _ = redis_proxy
    async with await client_for(redis_outage_app) as http:
        headers = await signed_in(http)
        assert (await http.get("/users/me", headers=headers)).status_code == 200

        proxy.cut()
        # No instance can know what the others revoked: no access token is accepted.
        assert_unavailable(await http.get("/users/me", headers=headers))
        assert_unavailable(await http.get("http://testserver/readyz"))
        # Anonymous reads still work, still rate limited, now by this process's counters.
        anonymous = await http.get("/tags")
        assert anonymous.status_code == 200
        assert '"default";r=' in anonymous.headers["ratelimit"]

        proxy.restore()
        await eventually_ok(http, "http://testserver/readyz")
        await eventually_ok(http, "/users/me", headers=headers)
