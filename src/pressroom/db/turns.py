"""Turns at the pool's connections, handed out in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc


class Turns:
    """Turns at the pool's connections, handed out in arrival order.

    Waiting inside SQLAlchemy's pool is not first come, first served: a connection given back
    can go to a request that has just arrived instead of one that has waited, and under more
    load than the pool serves some requests waited past the pool timeout (a 503) while most
    were served within a second (docs/performance.md, scenario (i)). asyncio's Semaphore lets
    no newcomer pass a waiter, so every request waits about as long as the queue is.
    """

    def __init__(self, count: int, timeout_seconds: float) -> None:
        self._free = asyncio.Semaphore(count)
        self._timeout = timeout_seconds

    async def take(self) -> None:
        if not self._free.locked():
            await self._free.acquire()  # no wait, so no timer to set
            return
        try:
            # asyncio.timeout, not wait_for: wait_for runs the wait in a task of its own, and
            # under load most requests wait here.
            async with asyncio.timeout(self._timeout):
                await self._free.acquire()
        except TimeoutError:
            raise sa_exc.TimeoutError("no database connection became free in time") from None

    def give_back(self) -> None:
        self._free.release()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.take()
        try:
            yield
        finally:
            self.give_back()
