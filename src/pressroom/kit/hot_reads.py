"""Replies to hot anonymous reads, kept per instance for at most a second, dropped on change.

What may be kept is decided by the reply itself: only a 200 marked `Cache-Control: public`
(an anonymous read of published content, see kit/conditional.py) to a request without
credentials. Nothing that depends on the caller is ever stored.

Invalidation is a generation number: a change bumps it after its commit (`changed()`, which the
services call), and every reply is kept under the generation it was computed in, so a reply read
from the database before a change can never be served after it. With Redis the bump is published
and every instance subscribed drops its replies on receipt (milliseconds); while an instance is
not subscribed (Redis unreachable, reconnecting) it serves nothing from its cache. The time limit
bounds what any failure could leave behind, which is also how instances without Redis (several
workers on SQLite) see each other's changes: within `ttl_seconds`.

Stampedes: concurrent misses of one key in one instance make one computation, which the others
wait for and share (`fill`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pressroom.kit.observability import get_logger
from pressroom.kit.shared_state import REDIS_FAILURES, SharedState
from pressroom.kit.shared_work import shared_work

log = get_logger("pressroom.cache")
RESUBSCRIBE_DELAY_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class StoredReply:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    etag: str | None
    shareable: bool  # a 200 marked public: the only kind kept
    # The route that answered: a reply served again names it in metrics and logs as the first.
    route: object | None = None


@dataclass(slots=True)
class _Entry:
    reply: StoredReply
    generation: int
    expires_at: float


class HotReadCache:
    def __init__(
        self, shared: SharedState, *, ttl_seconds: float = 1.0, max_entries: int = 512
    ) -> None:
        self.shared = shared
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.generation = 0
        self.computations = 0  # how many replies were computed for the cache (tests, metrics)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._filling: dict[tuple[int, str], asyncio.Future[StoredReply | None]] = {}
        self._instance = secrets.token_hex(8)
        self._channel = shared.key("hot-reads")
        self._subscribed = False
        self._listener: asyncio.Task[None] | None = None
        self._generation_changed = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    @property
    def usable(self) -> bool:
        """Whether replies may be served from here now: with Redis, only while subscribed to
        its changes (a change published while unsubscribed would go unseen)."""
        return self.enabled and (self._subscribed or not self.shared.uses_redis)

    def listen_for_changes(self) -> None:
        """With Redis, subscribes to other instances' changes (once; the middleware calls it on
        each read, so it needs no lifespan hook)."""
        if self.enabled and self.shared.uses_redis and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="hot-read-invalidations")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def get(self, key: str) -> StoredReply | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != self.generation or entry.expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.reply

    async def fill(self, key: str, compute: Callable[[], Awaitable[StoredReply]]) -> StoredReply:
        """The reply for `key`: computed once however many ask at the same time; the others
        wait for it. A reply that may not be kept is not shared either: each computes its own."""
        generation = self.generation
        pending = self._filling.get((generation, key))
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                return shared
            return await compute()
        future: asyncio.Future[StoredReply | None] = asyncio.get_running_loop().create_future()
        self._filling[(generation, key)] = future
        try:
            self.computations += 1
            with shared_work():  # its waiters wait in it: it goes first for a connection
                reply = await compute()
        except BaseException:
            future.set_result(None)
            raise
        finally:
            del self._filling[(generation, key)]
        keep = reply.shareable and generation == self.generation
        if keep:
            self._store(key, reply, generation)
        future.set_result(reply if reply.shareable else None)
        return reply

    def waiting(self, key: str) -> bool:
        """Whether a computation of `key` is under way (tests force the interleaving with it)."""
        return (self.generation, key) in self._filling

    async def changed(self) -> None:
        """Called after a change to published content has committed: this instance drops its
        replies at once, and the others when Redis tells them. A Redis failure is logged, not
        raised: the change is committed, and the time limit bounds the others' view."""
        if not self.enabled:
            return
        self._bump()
        if self.shared.redis is not None:
            try:
                await self.shared.redis.publish(self._channel, self._instance)
            except REDIS_FAILURES as error:
                log.warning("hot_read_invalidation_not_published", error=repr(error))

    async def generation_after(self, seen: int, timeout_seconds: float) -> int:
        """Waits until the generation has moved past `seen` (tests of other instances)."""
        deadline = time.monotonic() + timeout_seconds
        while self.generation <= seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._generation_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._generation_changed.wait(), remaining)
        return self.generation

    def _bump(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._generation_changed.set()

    def _store(self, key: str, reply: StoredReply, generation: int) -> None:
        self._entries[key] = _Entry(reply, generation, time.monotonic() + self.ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def _listen(self) -> None:
        assert self.shared.redis is not None
        while True:
            pubsub = self.shared.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                # Whatever changed while unsubscribed went unseen: start afresh.
                self._bump()
                self._subscribed = True
                async for message in pubsub.listen():
                    if message.get("type") == "message" and message.get("data") != (
                        self._instance.encode()
                    ):
                        self._bump()
            except REDIS_FAILURES as error:
                log.warning("hot_read_invalidations_lost", error=repr(error))
            finally:
                self._subscribed = False
                with contextlib.suppress(*REDIS_FAILURES):
                    await pubsub.aclose()
            await asyncio.sleep(RESUBSCRIBE_DELAY_SECONDS)
