"""Two real server processes on one PostgreSQL database and one Redis behave as one service."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.conftest import (
    PASSWORD,
    REDIS_TEST_URL,
    assert_error,
    service_missing,
    throwaway_postgres_database,
)
from tests.operations.processes import Server, start_server


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    prefix = f"pressroom-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (OSError, redis.RedisError) as error:
        client.close()
        service_missing("Redis", error)
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="module")
def instances(
    redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    log_dir = tmp_path_factory.mktemp("instances")
    with throwaway_postgres_database() as database_url:
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_TEST_URL,
            "REDIS_KEY_PREFIX": redis_prefix,
            "RATE_LIMITS_ENABLED": "true",
        }
        first = start_server(log_dir, **settings)
        try:
            second = start_server(log_dir, **settings)
        except BaseException:
            first.terminate()
            raise
        try:
            yield first, second
        finally:
            first.terminate()
            second.terminate()


def sign_up_and_log_in(server: Server) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    created = httpx.post(
        f"{server.api}/users",
        json={
            "email": email,
            "password": PASSWORD,
            "profile": {"firstName": "Two", "lastName": "Instances"},
        },
    )
    assert created.status_code == 201, created.text
    tokens = httpx.post(f"{server.api}/auth/login", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return {"email": email, **tokens.json()}


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def test_logout_on_one_instance_refuses_the_access_token_on_the_other_at_once(
    instances: tuple[Server, Server],
) -> None:
    first, second = instances
    tokens = sign_up_and_log_in(first)
    assert httpx.get(f"{second.api}/users/me", headers=bearer(tokens)).status_code == 200
    logout = httpx.post(f"{first.api}/auth/logout", json={"refreshToken": tokens["refreshToken"]})
    assert logout.status_code == 204
    assert_error(
        httpx.get(f"{second.api}/users/me", headers=bearer(tokens)), 401, "AUTHENTICATION_ERROR"
    )


def test_a_refresh_token_rotated_on_one_instance_is_refused_on_the_other(
    instances: tuple[Server, Server],
) -> None:
    first, second = instances
    tokens = sign_up_and_log_in(first)
    rotated = httpx.post(f"{first.api}/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert rotated.status_code == 200, rotated.text
    replay = httpx.post(f"{second.api}/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert_error(replay, 401, "AUTHENTICATION_ERROR")
    # The winner's new pair works on either instance.
    fresh = rotated.json()
    assert httpx.get(f"{second.api}/users/me", headers=bearer(fresh)).status_code == 200


def test_failed_logins_spread_over_both_instances_reach_429(
    instances: tuple[Server, Server],
) -> None:
    first, second = instances
    email = sign_up_and_log_in(first)["email"]
    replies = [
        httpx.post(
            f"{(first, second)[n % 2].api}/auth/login",
            json={"email": email, "password": f"Wrong-Horse-{n}"},
        )
        for n in range(11)
    ]
    # Each instance saw only five or six failures; the account's ten are shared.
    assert [r.status_code for r in replies[:10]] == [401] * 10
    assert_error(replies[10], 429, "RATE_LIMITED")
    assert int(replies[10].headers["retry-after"]) >= 1
    assert '"failed-logins";q=10;w=900' in replies[10].headers["ratelimit-policy"]


def test_every_route_limit_is_counted_across_instances(instances: tuple[Server, Server]) -> None:
    first, second = instances

    def remaining(server: Server) -> int:
        reply = httpx.get(f"{server.api}/tags")
        assert reply.status_code == 200
        match = re.search(r'"default";r=(\d+)', reply.headers["ratelimit"])
        assert match, reply.headers
        return int(match.group(1))

    on_first = remaining(first)
    assert remaining(second) == on_first - 1
    assert remaining(first) == on_first - 2


def test_both_instances_are_ready_with_database_and_redis(
    instances: tuple[Server, Server],
) -> None:
    for server in instances:
        reply = httpx.get(f"{server.url}/readyz")
        assert reply.status_code == 200
        assert reply.json()["checks"] == {"database": "ok", "redis": "ok"}
        assert "server" not in reply.headers


def test_instances_write_only_json_log_lines(instances: tuple[Server, Server]) -> None:
    for server in instances:
        lines = [line for line in server.logs().splitlines() if line.strip()]
        assert lines
        for line in lines:
            json.loads(line)
