"""Rate limits every instance shares: fixed-window counters from `limits`, kept in Redis when
`REDIS_URL` is set and in this process otherwise, or while Redis is unreachable.

Each check is recorded for the current request, so whichever layer counted (the middleware
for every route, a service for login, sign-up and refresh) the reply carries the IETF
`RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage

from pressroom.kit.errors import RateLimited
from pressroom.kit.observability import get_logger
from pressroom.kit.shared_state import REDIS_FAILURES, SharedState

if TYPE_CHECKING:
    from pressroom.config import Settings
    from pressroom.kit.observability import Metrics

log = get_logger("pressroom.ratelimit")
# After a Redis failure, counters stay in this process this long before Redis is tried again,
# so an outage costs one timeout per interval, not one per request.
REDIS_RETRY_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Policy:
    """A named quota: `RateLimit-Policy: "<name>";q=<quota>;w=<window seconds>`."""

    name: str
    limit: RateLimitItem

    @classmethod
    def of(cls, name: str, notation: str) -> Policy:
        return cls(name, parse(notation))

    @property
    def quota(self) -> int:
        return int(self.limit.amount)

    @property
    def window_seconds(self) -> int:
        return int(self.limit.get_expiry())


@dataclass(frozen=True, slots=True)
class QuotaState:
    policy: Policy
    remaining: int
    reset_seconds: int


@dataclass(frozen=True, slots=True)
class Policies:
    """SPEC §6's limits, each configurable; the names are what clients see in the headers."""

    per_address: Policy
    per_user: Policy
    login_per_address: Policy
    failed_logins_per_account: Policy
    sign_up_per_address: Policy
    refresh_per_address: Policy
    graphql_cost_per_address: Policy
    graphql_cost_per_user: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls(
            per_address=Policy.of("default", settings.rate_limit_per_address),
            per_user=Policy.of("user", settings.rate_limit_per_user),
            login_per_address=Policy.of("login", settings.rate_limit_login_per_address),
            failed_logins_per_account=Policy.of(
                "failed-logins", settings.rate_limit_failed_logins_per_account
            ),
            sign_up_per_address=Policy.of("sign-up", settings.rate_limit_sign_up_per_address),
            refresh_per_address=Policy.of("refresh", settings.rate_limit_refresh_per_address),
            graphql_cost_per_address=Policy.of(
                "graphql-cost", settings.rate_limit_graphql_cost_per_address
            ),
            graphql_cost_per_user=Policy.of(
                "graphql-cost-user", settings.rate_limit_graphql_cost_per_user
            ),
        )


# The quotas counted for the request being served, by policy name (the middleware sets it).
request_quotas: ContextVar[dict[str, QuotaState] | None] = ContextVar(
    "request_quotas", default=None
)


def rate_limit_headers(states: Iterable[QuotaState]) -> dict[str, str]:
    """Both fields as structured-field lists, one member per policy."""
    states = list(states)
    if not states:
        return {}
    return {
        "RateLimit-Policy": ", ".join(
            f'"{s.policy.name}";q={s.policy.quota};w={s.policy.window_seconds}' for s in states
        ),
        "RateLimit": ", ".join(
            f'"{s.policy.name}";r={s.remaining};t={s.reset_seconds}' for s in states
        ),
    }


class RateLimits:
    """Counts hits against policies and raises `RateLimited` once a policy is spent."""

    def __init__(
        self, shared: SharedState, policies: Policies, metrics: Metrics, *, enabled: bool
    ) -> None:
        self.policies = policies
        self.metrics = metrics
        self.enabled = enabled
        self._memory = MemoryStorage()
        self._redis: Storage | None = None
        if shared.redis is not None:
            options: dict[str, Any] = {"connection_pool": shared.redis.connection_pool}
            self._redis = RedisStorage(
                "async+" + (shared.url or "redis://"),
                implementation="redispy",
                key_prefix=shared.key("limits"),
                **options,
            )
        self._redis_down_until = 0.0

    async def hit(
        self, policy: Policy, *key: str, message: str | None = None, cost: int = 1
    ) -> QuotaState:
        """Count `cost` against `policy` for `key`; raises RateLimited when over the quota."""
        if not self.enabled:
            return QuotaState(policy, policy.quota, policy.window_seconds)
        count, reset_at = await self._increment(policy, key, cost)
        state = _record(policy, count, reset_at)
        if count > policy.quota:
            self.metrics.count("rate_limited")
            log.warning("rate_limited", policy=policy.name, retry_after=state.reset_seconds)
            raise RateLimited(state.reset_seconds, message)
        return state

    async def refund(self, policy: Policy, *key: str) -> None:
        """Give back one hit (a reserved attempt that turned out not to count)."""
        if self.enabled:
            count, reset_at = await self._increment(policy, key, -1)
            _record(policy, count, reset_at)

    async def _increment(
        self, policy: Policy, key: tuple[str, ...], cost: int
    ) -> tuple[int, float]:
        storage_key = policy.limit.key_for(policy.name, *key)
        expiry = policy.window_seconds
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                count = await self._redis.incr(storage_key, expiry, amount=cost)
                reset_at = await self._redis.get_expiry(storage_key)
            except REDIS_FAILURES as error:
                self._redis_down_until = time.monotonic() + REDIS_RETRY_INTERVAL_SECONDS
                log.warning("rate_limits_in_process", reason="redis unreachable", error=repr(error))
            else:
                return int(count), float(reset_at)
        count = await self._memory.incr(storage_key, expiry, amount=cost)
        return int(count), float(await self._memory.get_expiry(storage_key))


def _record(policy: Policy, count: int, reset_at: float) -> QuotaState:
    reset_seconds = max(1, math.ceil(reset_at - time.time()))
    state = QuotaState(
        policy, max(0, policy.quota - count), min(reset_seconds, policy.window_seconds)
    )
    quotas = request_quotas.get()
    if quotas is not None:
        quotas[policy.name] = state
    return state
