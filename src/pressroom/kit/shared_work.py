"""Work that many requests wait for: it goes first where requests queue.

A hot-read cache fill (kit/hot_reads.py) computes one reply that every reader of its key who
arrived meanwhile is waiting for. Queued for a database connection behind the requests that
arrived before it, as fair turns would have it, those readers all wait the length of that queue:
under 20 edits a second of one post, the edits held most connections waiting on the post's row
lock, and a fill waited 45 ms for a turn on a 50 ms computation (docs/performance.md). Marked as
shared work, it takes the next connection given back (db/turns.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_shared: ContextVar[bool] = ContextVar("pressroom_shared_work", default=False)


@contextmanager
def shared_work() -> Iterator[None]:
    """Marks the block (and tasks it starts) as work other requests wait for."""
    token = _shared.set(True)
    try:
        yield
    finally:
        _shared.reset(token)


def is_shared_work() -> bool:
    return _shared.get()
