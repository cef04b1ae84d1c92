"""The revoked-session signal: ended sessions, announced to every instance through Redis.

The database stays the authority (every access-token check reads the session row); this
signal lets any instance refuse a revoked session's tokens before that query. It fails
closed: while Redis is configured but unreachable, no access token is accepted (503), since
this instance cannot know what the others revoked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pressroom.kit.errors import ServiceUnavailable
from pressroom.kit.observability import get_logger
from pressroom.kit.shared_state import REDIS_FAILURES, SharedState

log = get_logger("pressroom.security")
# After a failed Redis call, checks fail at once for this long instead of waiting on a timeout.
REDIS_RETRY_INTERVAL_SECONDS = 2.0
_MEMORY_PRUNE_AT = 10_000


class RevokedSessions:
    def __init__(self, shared: SharedState, ttl_seconds: int) -> None:
        self.shared = shared
        # Past an access token's lifetime a revoked session's tokens are refused as expired.
        self.ttl_seconds = ttl_seconds
        self._local: dict[int, float] = {}
        self._redis_down_until = 0.0

    async def add(self, session_ids: Iterable[int]) -> None:
        """Announce ended sessions. Best effort: the database has already recorded them."""
        ids = list(session_ids)
        if not ids:
            return
        expires = time.monotonic() + self.ttl_seconds
        for session_id in ids:
            self._local[session_id] = expires
        if len(self._local) > _MEMORY_PRUNE_AT:
            now = time.monotonic()
            self._local = {s: e for s, e in self._local.items() if e > now}
        redis = self.shared.redis
        if redis is None:
            return
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(self._key(session_id), b"1", ex=self.ttl_seconds)
                await pipe.execute()
        except REDIS_FAILURES as error:
            log.warning("revocation_signal_not_sent", error=repr(error), sessions=ids)

    async def contains(self, session_id: int) -> bool:
        """Whether the session was revoked; ServiceUnavailable when that cannot be known."""
        expires = self._local.get(session_id)
        if expires is not None and expires > time.monotonic():
            return True
        redis = self.shared.redis
        if redis is None:
            return False
        if time.monotonic() < self._redis_down_until:
            raise _unavailable()
        try:
            return bool(await redis.exists(self._key(session_id)))
        except REDIS_FAILURES as error:
            self._redis_down_until = time.monotonic() + REDIS_RETRY_INTERVAL_SECONDS
            log.error("session_check_unavailable", error=repr(error))
            raise _unavailable() from error

    def _key(self, session_id: int) -> str:
        return self.shared.key("revoked-session", str(session_id))


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("Session checks are unavailable; retry later", retry_after_seconds=2)
