"""Rate limits (docs/api.md brute force, §6): per address, per user, login, sign-up and refresh.

Each test runs with the in-process counters and with Redis (key prefix unique per test).
Client addresses are simulated through `X-Forwarded-For` from a trusted loopback proxy.
Windows are crossed by moving the limits' clock, never by waiting.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from pressroom.services import Services
from tests.conftest import PASSWORD, REDIS_TEST_URL, People, Person, assert_error, service_missing

OWNER_ADDRESS = "198.51.100.7"
STRANGER_ADDRESS = "203.0.113.9"
OTHER_STRANGER_ADDRESS = "203.0.113.10"


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings for where counters live; Redis keys are removed afterwards."""
    if request.param == "memory":
        yield {}
        return
    prefix = f"pressroom-test-{uuid.uuid4().hex[:12]}"
    redis = Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        await redis.ping()
    except OSError as error:
        await redis.aclose()
        service_missing("Redis", error)
    try:
        yield {"redis_url": REDIS_TEST_URL, "redis_key_prefix": prefix}
    finally:
        async for key in redis.scan_iter(match=f"{prefix}:*"):
            await redis.delete(key)
        await redis.aclose()


@pytest.fixture
def settings_overrides(counters: dict[str, Any]) -> dict[str, Any]:
    return {
        **counters,
        "rate_limits_enabled": True,
        "trusted_proxies": ["127.0.0.1/32"],
        "rate_limit_per_address": "40/minute",
        "rate_limit_per_user": "50/minute",
        "rate_limit_login_per_address": "20/minute",
        "rate_limit_failed_logins_per_account": "3 per 15 minutes",
        "rate_limit_sign_up_per_address": "30/hour",
        "rate_limit_refresh_per_address": "20/minute",
    }


class Clock:
    """Seconds since the epoch that move only when told."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# A boundary of every window the policies here use (a minute, 15 minutes, an hour).
BOUNDARY = 1_800_000_000.0


@pytest.fixture
def clock(services: Services) -> Clock:
    clock = Clock(BOUNDARY)
    services.limits.clock = clock
    return clock


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def login(
    client: httpx.AsyncClient, email: str, password: str, address: str
) -> httpx.Response:
    return await client.post(
        "/auth/login",
        json={"email": email, "password": password},
        headers=from_address(address),
    )


def quota(reply: httpx.Response, policy: str) -> tuple[int, int]:
    """(remaining, seconds to reset) of one policy in the `RateLimit` field."""
    match = re.search(rf'"{re.escape(policy)}";r=(\d+);t=(\d+)', reply.headers["ratelimit"])
    assert match, reply.headers["ratelimit"]
    return int(match.group(1)), int(match.group(2))


def assert_rate_limited(reply: httpx.Response, policy: str) -> None:
    assert_error(reply, 429, "RATE_LIMITED")
    assert int(reply.headers["retry-after"]) >= 1
    assert f'"{policy}";q=' in reply.headers["ratelimit-policy"]
    assert quota(reply, policy)[0] == 0


async def test_every_reply_carries_the_ietf_rate_limit_fields(anon: httpx.AsyncClient) -> None:
    first = await anon.get("/posts")
    second = await anon.get("/posts")
    assert first.status_code == 200
    assert first.headers["ratelimit-policy"] == '"default";q=40;w=60'
    remaining, reset = quota(first, "default")
    assert remaining == 39
    # A hit counts, less and less, until the end of the window after the one it fell in: that
    # is when the quota grows back by one.
    assert 60 <= reset <= 120
    assert quota(second, "default")[0] == 38


async def test_an_address_over_its_quota_gets_429_with_retry_after(
    anon: httpx.AsyncClient,
) -> None:
    replies = [await anon.get("/tags", headers=from_address(STRANGER_ADDRESS)) for _ in range(41)]
    assert all(r.status_code == 200 for r in replies[:40])
    assert_rate_limited(replies[40], "default")
    # Another address is counted apart.
    other = await anon.get("/tags", headers=from_address(OTHER_STRANGER_ADDRESS))
    assert other.status_code == 200


async def test_a_client_cannot_spend_its_quota_again_just_after_a_window_boundary(
    anon: httpx.AsyncClient, clock: Clock
) -> None:
    async def burst() -> list[httpx.Response]:
        return [await anon.get("/tags", headers=from_address(STRANGER_ADDRESS)) for _ in range(40)]

    clock.now = BOUNDARY - 1
    assert all(r.status_code == 200 for r in await burst())
    # Two seconds later, one past the boundary: a fixed window would serve 40 more here.
    clock.now = BOUNDARY + 1
    after = await burst()
    assert all(r.status_code == 429 for r in after)
    assert_rate_limited(after[0], "default")
    # The quota comes back as the earlier hits slide out of the window: one at a time.
    retry_after = int(after[-1].headers["retry-after"])
    clock.now += retry_after
    assert [r.status_code for r in await burst()] == [200] + [429] * 39


async def test_retry_after_and_t_say_when_the_next_request_is_admitted(
    anon: httpx.AsyncClient, clock: Clock
) -> None:
    replies = [await anon.get("/tags", headers=from_address(STRANGER_ADDRESS)) for _ in range(40)]
    remaining, reset = quota(replies[-1], "default")
    assert remaining == 0
    refused = await anon.get("/tags", headers=from_address(STRANGER_ADDRESS))
    assert_rate_limited(refused, "default")
    retry_after = int(refused.headers["retry-after"])
    assert retry_after == reset == quota(refused, "default")[1]
    # A second early is too early; on time is admitted.
    clock.now += retry_after - 1
    early = await anon.get("/tags", headers=from_address(STRANGER_ADDRESS))
    assert_rate_limited(early, "default")
    assert early.headers["retry-after"] == "1"
    clock.now += 1
    assert (await anon.get("/tags", headers=from_address(STRANGER_ADDRESS))).status_code == 200


async def test_failed_logins_do_not_start_afresh_at_a_window_boundary(
    anon: httpx.AsyncClient, people: People, clock: Clock
) -> None:
    owner = await people.make()
    clock.now = BOUNDARY - 1
    for _ in range(3):
        reply = await login(anon, owner.email, "Wrong-Horse-42", STRANGER_ADDRESS)
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
    clock.now = BOUNDARY + 1
    reply = await login(anon, owner.email, "Wrong-Horse-43", STRANGER_ADDRESS)
    assert_rate_limited(reply, "failed-logins")
    # One more guess once a failure has slid out of the window, and no more.
    clock.now += int(reply.headers["retry-after"])
    reply = await login(anon, owner.email, "Wrong-Horse-44", STRANGER_ADDRESS)
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    reply = await login(anon, owner.email, "Wrong-Horse-45", STRANGER_ADDRESS)
    assert_rate_limited(reply, "failed-logins")


@pytest.mark.parametrize(
    ("policy", "quota_now", "path"),
    [("login", 20, "/auth/login"), ("refresh", 20, "/auth/refresh"), ("sign-up", 30, "/users")],
)
async def test_login_refresh_and_sign_up_do_not_start_afresh_at_a_window_boundary(
    anon: httpx.AsyncClient, people: People, clock: Clock, policy: str, quota_now: int, path: str
) -> None:
    owner = await people.make()
    body = {
        "login": {"email": owner.email, "password": PASSWORD},
        "refresh": {"refreshToken": "not-a-real-token"},
        "sign-up": {
            "email": "new@example.com",
            "password": "short",
            "profile": {"firstName": "New", "lastName": "Person"},
        },
    }[policy]

    async def attempt() -> httpx.Response:
        return await anon.post(path, json=body, headers=from_address(STRANGER_ADDRESS))

    clock.now = BOUNDARY - 1
    assert 429 not in [(await attempt()).status_code for _ in range(quota_now)]
    clock.now = BOUNDARY + 1
    refused = await attempt()
    assert_rate_limited(refused, policy)
    # Retry-After is right: then one attempt is admitted, and only one.
    clock.now += int(refused.headers["retry-after"])
    assert (await attempt()).status_code != 429
    assert_rate_limited(await attempt(), policy)


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    app: Any, settings_overrides: dict[str, Any]
) -> None:
    # The peer 127.0.0.1 is trusted in this module; a peer outside TRUSTED_PROXIES is not.
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as c:
        for n in range(40):
            reply = await c.get("/tags", headers=from_address(f"198.51.100.{n + 1}"))
            assert reply.status_code == 200
        reply = await c.get("/tags", headers=from_address("198.51.100.200"))
    assert_rate_limited(reply, "default")


async def test_a_signed_in_user_is_counted_across_addresses(author: Person) -> None:
    addresses = [STRANGER_ADDRESS, OTHER_STRANGER_ADDRESS]
    replies = [
        await author.http.get(
            "/users/me", headers={**author.headers, **from_address(addresses[n % 2])}
        )
        for n in range(51)
    ]
    assert all(r.status_code == 200 for r in replies[:50])
    assert '"user";q=50;w=60' in replies[0].headers["ratelimit-policy"]
    assert_rate_limited(replies[50], "user")


async def test_failed_logins_lock_an_account_for_strangers_from_any_address(
    anon: httpx.AsyncClient, people: People
) -> None:
    owner = await people.make()
    for _ in range(3):
        reply = await login(anon, owner.email, "Wrong-Horse-42", STRANGER_ADDRESS)
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
    # The right password no longer helps a new address, nor does changing address.
    assert_rate_limited(
        await login(anon, owner.email, PASSWORD, OTHER_STRANGER_ADDRESS), "failed-logins"
    )
    assert_rate_limited(
        await login(anon, owner.email, "Wrong-Horse-43", STRANGER_ADDRESS), "failed-logins"
    )


async def test_an_address_the_owner_signed_in_from_keeps_its_own_allowance(
    anon: httpx.AsyncClient, people: People
) -> None:
    owner = await people.make()
    assert (await login(anon, owner.email, PASSWORD, OWNER_ADDRESS)).status_code == 200
    for _ in range(3):
        await login(anon, owner.email, "Wrong-Horse-42", STRANGER_ADDRESS)
    assert_rate_limited(await login(anon, owner.email, PASSWORD, STRANGER_ADDRESS), "failed-logins")
    # The stranger's failures do not lock the owner out of their usual address.
    reply = await login(anon, owner.email, PASSWORD, OWNER_ADDRESS)
    assert reply.status_code == 200, reply.text
    # A mistyped password there draws on that address's allowance, not the strangers' one.
    assert (await login(anon, owner.email, "Typo-Horse-42", OWNER_ADDRESS)).status_code == 401
    assert (await login(anon, owner.email, PASSWORD, OWNER_ADDRESS)).status_code == 200


async def test_a_successful_login_does_not_use_up_the_failure_allowance(
    anon: httpx.AsyncClient, people: People
) -> None:
    owner = await people.make()
    for _ in range(5):
        reply = await login(anon, owner.email, PASSWORD, STRANGER_ADDRESS)
        assert reply.status_code == 200, reply.text
    assert quota(reply, "failed-logins")[0] == 3


async def test_concurrent_guesses_cannot_overrun_the_failure_allowance(
    anon: httpx.AsyncClient, people: People
) -> None:
    owner = await people.make()
    replies = await asyncio.gather(
        *(login(anon, owner.email, f"Guess-Horse-{n}", STRANGER_ADDRESS) for n in range(8))
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [401] * 3 + [429] * 5


async def test_unknown_emails_are_throttled_like_accounts(anon: httpx.AsyncClient) -> None:
    replies = [
        await login(anon, "nobody@example.com", "Wrong-Horse-42", STRANGER_ADDRESS)
        for _ in range(4)
    ]
    assert [r.status_code for r in replies[:3]] == [401, 401, 401]
    assert_rate_limited(replies[3], "failed-logins")


@pytest.mark.parametrize(
    ("override", "policy"),
    [("rate_limit_login_per_address", "login"), ("rate_limit_refresh_per_address", "refresh")],
)
async def test_login_and_refresh_are_limited_per_address(
    app: Any,
    anon: httpx.AsyncClient,
    people: People,
    settings_overrides: dict[str, Any],
    override: str,
    policy: str,
) -> None:
    owner = await people.make()
    quota_now = int(settings_overrides[override].split("/")[0])
    path, body = (
        ("/auth/login", {"email": owner.email, "password": PASSWORD})
        if policy == "login"
        else ("/auth/refresh", {"refreshToken": "not-a-real-token"})
    )
    statuses = []
    for _ in range(quota_now + 1):
        reply = await anon.post(path, json=body, headers=from_address(STRANGER_ADDRESS))
        statuses.append(reply.status_code)
    assert 429 not in statuses[:quota_now]
    assert_rate_limited(reply, policy)


async def test_sign_up_is_limited_per_address(app: Any, anon: httpx.AsyncClient) -> None:
    statuses = []
    for n in range(31):
        reply = await anon.post(
            "/users",
            json={
                "email": f"new{n}@example.com",
                "password": "short",  # refused: every attempt counts, not only sign-ups made
                "profile": {"firstName": "New", "lastName": "Person"},
            },
            headers=from_address(STRANGER_ADDRESS),
        )
        statuses.append(reply.status_code)
    assert statuses[:30] == [400] * 30
    assert_rate_limited(reply, "sign-up")


async def test_sessions_list_shows_the_forwarded_address_from_a_trusted_proxy(
    anon: httpx.AsyncClient, people: People
) -> None:
    owner = await people.make()
    reply = await login(anon, owner.email, PASSWORD, f"192.0.2.99, {OWNER_ADDRESS}")
    assert reply.status_code == 200
    token = reply.json()["accessToken"]
    sessions = await anon.get("/users/me/sessions", headers={"Authorization": f"Bearer {token}"})
    # The rightmost hop the trusted proxy saw is the client; what it was told is not believed.
    ips = [s["ip"] for s in sessions.json()["data"]]
    assert OWNER_ADDRESS in ips
    assert "192.0.2.99" not in ips


async def test_health_probes_are_not_limited(anon: httpx.AsyncClient) -> None:
    for _ in range(45):
        reply = await anon.get("http://testserver/healthz")
        assert reply.status_code == 200
    assert "ratelimit" not in reply.headers
