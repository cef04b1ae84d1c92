"""`/readyz` checks the database and, when configured, Redis."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import redis

from pressroom.app import create_app
from tests.conftest import REDIS_TEST_URL, assert_error, make_settings, service_missing
from tests.operations.processes import free_port


async def readyz(database_url: str, **overrides: Any) -> httpx.Response:
    app = create_app(make_settings(database_url, **overrides))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/readyz", timeout=15)
    finally:
        await app.state.services.close()


async def test_ready_checks_the_database(database_url: str) -> None:
    reply = await readyz(database_url)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_checks_redis_when_configured(database_url: str) -> None:
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except (OSError, redis.RedisError) as error:
        service_missing("Redis", error)
    prefix = f"pressroom-test-{uuid.uuid4().hex[:12]}"
    reply = await readyz(database_url, redis_url=REDIS_TEST_URL, redis_key_prefix=prefix)
    assert reply.status_code == 200
    assert reply.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_not_ready_while_redis_is_unreachable(database_url: str) -> None:
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    reply = await readyz(database_url, redis_url=nobody_listens, redis_timeout_seconds=0.5)
    assert_error(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.headers["retry-after"]
