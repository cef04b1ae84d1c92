"""State every instance must agree on: one Redis when `REDIS_URL` is set, else this process.

Timeouts are short and retries few, so an unreachable Redis costs a request about
`REDIS_TIMEOUT_SECONDS` at most, never a hang.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

# What an unreachable or misbehaving Redis raises through redis-py (timeouts are OSErrors).
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)


class SharedState:
    def __init__(self, url: str | None, key_prefix: str, timeout_seconds: float) -> None:
        self.url = url
        self.key_prefix = key_prefix
        self.redis: Redis | None = None
        if url is not None:
            self.redis = Redis.from_url(
                url,
                socket_connect_timeout=timeout_seconds,
                socket_timeout=timeout_seconds,
                retry=Retry(NoBackoff(), 1),
                health_check_interval=30,
            )

    @property
    def uses_redis(self) -> bool:
        return self.redis is not None

    def key(self, *parts: str) -> str:
        return ":".join((self.key_prefix, *parts))

    async def ping(self) -> None:
        """Raises one of REDIS_FAILURES when Redis is configured and unreachable."""
        if self.redis is not None:
            await self.redis.ping()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
