"""`/readyz` checks the database, its schema revision and, when configured, Redis; a 503 says
which check failed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from pressroom.app import create_app
from pressroom.db.migrate import head_revision, migrate
from tests.conftest import (
    REDIS_TEST_URL,
    assert_error,
    make_settings,
    service_missing,
    throwaway_postgres_database,
)
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
    assert reply.json()["status"] == "ok"
    assert reply.json()["checks"] == {"database": "ok"}


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
    error = assert_error(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.headers["retry-after"]
    assert error["details"] == {"redis": ["unreachable"]}


async def test_ready_reports_the_schema_revision(database_url: str) -> None:
    reply = await readyz(database_url)
    assert reply.status_code == 200
    assert reply.json()["schema"] == {"current": head_revision(), "expected": head_revision()}


@pytest.fixture
def unmigrated_postgres() -> Iterator[str]:
    with throwaway_postgres_database(migrated=False) as url:
        yield url


@pytest.fixture
def sqlite_behind(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/old.db"
    migrate(url, "0003")
    return url


async def test_not_ready_on_a_postgresql_database_never_migrated(unmigrated_postgres: str) -> None:
    reply = await readyz(unmigrated_postgres)
    error = assert_error(reply, 503, "SERVICE_UNAVAILABLE")
    assert set(error["details"]) == {"schema"}
    assert head_revision() in error["details"]["schema"][0]
    assert "pressroom migrate" in error["details"]["schema"][0]


def test_not_ready_while_a_sqlite_schema_is_behind(sqlite_behind: str) -> None:
    error = assert_error(asyncio.run(readyz(sqlite_behind)), 503, "SERVICE_UNAVAILABLE")
    assert set(error["details"]) == {"schema"}
    assert "0003" in error["details"]["schema"][0]
    assert head_revision() in error["details"]["schema"][0]
    migrate(sqlite_behind)
    assert asyncio.run(readyz(sqlite_behind)).status_code == 200


async def test_not_ready_says_the_database_is_unreachable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    error = assert_error(await readyz(url, database_timeout_seconds=2), 503, "SERVICE_UNAVAILABLE")
    assert error["details"] == {"database": ["unreachable"]}
