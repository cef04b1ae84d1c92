"""Turns at the pool's connections, handed out in arrival order (shared work first)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc

from pressroom.kit.shared_work import is_shared_work


class Turns:
    """Turns at the pool's connections, handed out in arrival order.

    Waiting inside SQLAlchemy's pool is not first come, first served: a connection given back
    can go to a request that has just arrived instead of one that has waited, and under more
    load than the pool serves some requests waited past the pool timeout (a 503) while most
    were served within a second (docs/performance.md, scenario (i)). Here no newcomer passes a
    waiter, so every request waits about as long as the queue is.

    Work that many requests wait for (a hot-read cache fill, kit/shared_work.py) is the
    exception: one connection of the pool is kept for it, and it queues ahead of the others. One
    turn serves all its waiters, so the readers of a hot page never wait behind the requests
    that hold every other connection (writes waiting on a row lock); there is at most one fill
    per cached key and change, so the others still move.
    """

    def __init__(self, count: int, timeout_seconds: float) -> None:
        self._free = count
        self._kept_for_shared = 1 if count > 1 else 0
        self._timeout = timeout_seconds
        self._shared: deque[asyncio.Future[None]] = deque()
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def take(self) -> None:
        shared = is_shared_work()
        if self._free > (0 if shared else self._kept_for_shared) and not (
            self._shared or (self._waiting and not shared)
        ):
            self._free -= 1  # no wait, so no timer to set
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._shared if shared else self._waiting
        queue.append(turn)
        try:
            # asyncio.timeout, not wait_for: wait_for runs the wait in a task of its own, and
            # under load most requests wait here.
            async with asyncio.timeout(self._timeout):
                await turn
        except BaseException as error:
            if turn.done() and not turn.cancelled():
                self.give_back()  # handed a turn just as the wait ended: pass it on
            else:
                turn.cancel()
                # A turn cancelled with its task may have been dropped by `_hand_out` already.
                with contextlib.suppress(ValueError):
                    queue.remove(turn)
            if isinstance(error, TimeoutError):
                raise sa_exc.TimeoutError("no database connection became free in time") from None
            raise

    def give_back(self) -> None:
        self._free += 1
        self._hand_out(self._shared, 0)
        self._hand_out(self._waiting, self._kept_for_shared)

    def _hand_out(self, queue: deque[asyncio.Future[None]], keep: int) -> None:
        while queue and self._free > keep:
            turn = queue.popleft()
            if not turn.done():
                self._free -= 1
                turn.set_result(None)

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.take()
        try:
            yield
        finally:
            self.give_back()
