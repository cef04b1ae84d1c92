"""Rate limits every instance shares: sliding windows, kept in Redis when `REDIS_URL` is set
and in this process otherwise, or while Redis is unreachable.

Each limit is a sliding window counter: counts per fixed bucket of one window, the previous
bucket weighted by how much of it still lies inside the window that ends now. A client cannot
spend its quota at the end of one window and again at the start of the next (the fixed-window
burst). Counts are kept per bucket, so a limit costs two small keys whatever its quota or a
hit's cost, and one Redis round trip per check (a script counts and reads in one go).

Each check is recorded for the current request, so whichever layer counted (the middleware
for every route, a service for login, sign-up and refresh) the reply carries the IETF
`RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse

from pressroom.kit.errors import RateLimited
from pressroom.kit.observability import get_logger
from pressroom.kit.shared_state import REDIS_FAILURES, SharedState

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from pressroom.config import Settings
    from pressroom.kit.observability import Metrics

log = get_logger("pressroom.ratelimit")
# After a Redis failure, counters stay in this process this long before Redis is tried again,
# so an outage costs one timeout per interval, not one per request.
REDIS_RETRY_INTERVAL_SECONDS = 5.0
# Bucket keys outlive the next bucket by this much, so instances whose clocks differ a little
# still find the previous bucket.
KEY_GRACE_SECONDS = 5.0

# KEYS: previous bucket, current bucket. ARGV: quota, cost, weight of the previous bucket,
# milliseconds the current bucket's key must live. Counts and answers in one round trip; a
# refused hit is not counted, so a client that keeps knocking is not kept out longer.
# A negative cost gives hits back, from the bucket that still holds some.
_SLIDING_WINDOW_SCRIPT = """
local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[2])
if cost < 0 then
  if current > 0 then
    current = redis.call('DECRBY', KEYS[2], math.min(current, -cost))
  elseif previous > 0 then
    previous = redis.call('DECRBY', KEYS[1], math.min(previous, -cost))
  end
  return {1, previous, current}
end
if previous * tonumber(ARGV[3]) + current + cost > tonumber(ARGV[1]) then
  return {0, previous, current}
end
current = redis.call('INCRBY', KEYS[2], cost)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, previous, current}
"""


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
    """docs/api.md limits, each configurable; the names are what clients see in the headers."""

    per_address: Policy
    per_user: Policy
    login_per_address: Policy
    failed_logins_per_account: Policy
    sign_up_per_address: Policy
    refresh_per_address: Policy
    graphql_cost_per_address: Policy
    graphql_cost_per_user: Policy
    password_reset_per_address: Policy
    password_reset_per_email: Policy
    verification_per_account: Policy

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
            password_reset_per_address=Policy.of(
                "password-reset", settings.rate_limit_password_reset_per_address
            ),
            password_reset_per_email=Policy.of(
                "password-reset-email", settings.rate_limit_password_reset_per_email
            ),
            verification_per_account=Policy.of(
                "verification-mail", settings.rate_limit_verification_per_account
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


@dataclass(frozen=True, slots=True)
class Window:
    """One key's sliding window at one instant: the two bucket counts and how far into the
    current bucket the instant is (0 <= elapsed < 1)."""

    quota: int
    seconds: int
    previous: int
    current: int
    elapsed: float

    @property
    def used(self) -> float:
        return self.previous * (1 - self.elapsed) + self.current

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.quota - self.used + 1e-9))

    def admits(self, cost: int) -> bool:
        return self.used + cost <= self.quota + 1e-9

    def seconds_until(self, cost: int) -> float:
        """How long until `cost` more would be admitted, if nothing else is counted meanwhile.

        The previous bucket's weight falls linearly to 0 by the end of the current bucket; then
        the current bucket becomes the previous one and falls likewise.
        """
        if cost > self.quota:
            return math.inf
        if self.admits(cost):
            return 0.0
        rest_of_bucket = self.seconds * (1 - self.elapsed)
        room_in_current = self.quota - self.current - cost
        if room_in_current >= 0:  # previous > 0 here, or cost would be admitted
            return rest_of_bucket - self.seconds * room_in_current / self.previous
        return rest_of_bucket + self.seconds * max(0.0, 1 - (self.quota - cost) / self.current)


class RateLimits:
    """Counts hits against policies and raises `RateLimited` once a policy is spent.

    `clock` (seconds since the epoch) places buckets; tests replace it to cross windows.
    """

    def __init__(
        self,
        shared: SharedState,
        policies: Policies,
        metrics: Metrics,
        *,
        enabled: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policies = policies
        self.metrics = metrics
        self.enabled = enabled
        self.clock = clock
        self._key_prefix = shared.key("limits")
        self._memory: dict[str, tuple[int, float]] = {}  # bucket key: (count, expires at)
        self._memory_swept_at = 0.0
        self._script: AsyncScript | None = None
        if shared.redis is not None:
            self._script = shared.redis.register_script(_SLIDING_WINDOW_SCRIPT)
        self._redis_down_until = 0.0

    async def hit(
        self, policy: Policy, *key: str, message: str | None = None, cost: int = 1
    ) -> QuotaState:
        """Count `cost` against `policy` for `key`; raises RateLimited when over the quota."""
        if not self.enabled:
            return QuotaState(policy, policy.quota, policy.window_seconds)
        admitted, window = await self._count(policy, key, cost)
        if not admitted:
            retry_after = _whole_seconds(window.seconds_until(cost), policy)
            _record(QuotaState(policy, window.remaining, retry_after))
            self.metrics.count("rate_limited")
            log.warning("rate_limited", policy=policy.name, retry_after=retry_after)
            raise RateLimited(retry_after, message)
        return _record(_state(policy, window))

    async def refund(self, policy: Policy, *key: str) -> None:
        """Give back one hit (a reserved attempt that turned out not to count)."""
        if self.enabled:
            _, window = await self._count(policy, key, -1)
            _record(_state(policy, window))

    async def _count(self, policy: Policy, key: tuple[str, ...], cost: int) -> tuple[bool, Window]:
        now = self.clock()
        seconds = policy.window_seconds
        bucket, into_bucket = divmod(now, seconds)
        elapsed = into_bucket / seconds
        base = f"{self._key_prefix}:{policy.limit.key_for(policy.name, *key)}"
        keys = (f"{base}:{int(bucket) - 1}", f"{base}:{int(bucket)}")
        # The current bucket is read as the previous one until the end of the next bucket.
        lifetime = (bucket + 2) * seconds - now + KEY_GRACE_SECONDS
        if self._script is not None and time.monotonic() >= self._redis_down_until:
            try:
                admitted, previous, current = await self._script(
                    keys=keys, args=[policy.quota, cost, 1 - elapsed, math.ceil(lifetime * 1000)]
                )
            except REDIS_FAILURES as error:
                self._redis_down_until = time.monotonic() + REDIS_RETRY_INTERVAL_SECONDS
                log.warning("rate_limits_in_process", reason="redis unreachable", error=repr(error))
            else:
                window = Window(policy.quota, seconds, int(previous), int(current), elapsed)
                return bool(admitted), window
        return self._count_in_memory(policy, keys, cost, now, lifetime, elapsed)

    def _count_in_memory(
        self,
        policy: Policy,
        keys: tuple[str, str],
        cost: int,
        now: float,
        lifetime: float,
        elapsed: float,
    ) -> tuple[bool, Window]:
        # No await in here: each check is atomic within the event loop, like the Redis script.
        self._sweep(now)
        previous, current = self._live_count(keys[0], now), self._live_count(keys[1], now)
        admitted = True
        if cost < 0:
            source = 1 if current > 0 else 0
            counts = [previous, current]
            if counts[source] > 0:
                counts[source] -= min(counts[source], -cost)
                self._memory[keys[source]] = (counts[source], self._memory[keys[source]][1])
            previous, current = counts
        elif Window(policy.quota, policy.window_seconds, previous, current, elapsed).admits(cost):
            current += cost
            self._memory[keys[1]] = (current, now + lifetime)
        else:
            admitted = False
        return admitted, Window(policy.quota, policy.window_seconds, previous, current, elapsed)

    def _live_count(self, key: str, now: float) -> int:
        entry = self._memory.get(key)
        return entry[0] if entry is not None and entry[1] > now else 0

    def _sweep(self, now: float) -> None:
        """Drops expired buckets at most once a minute, so memory follows the live keys."""
        if now - self._memory_swept_at < 60:
            return
        self._memory_swept_at = now
        for key in [k for k, (_, expires_at) in self._memory.items() if expires_at <= now]:
            del self._memory[key]


def _whole_seconds(seconds: float, policy: Policy) -> int:
    """Whole seconds, rounded up so that waiting them is enough; a hit that can never be
    admitted (cost above the quota) is told the window."""
    if math.isinf(seconds):
        return policy.window_seconds
    return max(1, math.ceil(seconds - 1e-9))


def _state(policy: Policy, window: Window) -> QuotaState:
    """`r` is what can still be spent now; `t` is when it next grows by one (for r=0, when the
    next request is admitted: the same as Retry-After would say)."""
    remaining = window.remaining
    return QuotaState(
        policy, remaining, _whole_seconds(window.seconds_until(remaining + 1), policy)
    )


def _record(state: QuotaState) -> QuotaState:
    quotas = request_quotas.get()
    if quotas is not None:
        quotas[state.policy.name] = state
    return state
