"""Rules of Idempotency-Key (docs/api.md): the same key and request from the same caller within
the retention replays the first reply; another request under the key is refused; a retry while
the first runs is told to come back.

A request claims its key in a short transaction of its own, so a concurrent retry sees the claim.
The change it then makes records its reply through the claim's receipt in the change's own
transaction. A request that fails gives its key back (nothing was changed); one that dies before
its commit leaves a claim that lapses after `CLAIM_SECONDS`, and a retry then runs afresh.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.units import UnitOfWork
from pressroom.idempotency.repository import IdempotencyRepository, KeyRecord
from pressroom.kit.clock import utcnow
from pressroom.kit.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from pressroom.kit.idempotency import RecordedReply
from pressroom.kit.observability import get_logger

T = TypeVar("T")
log = get_logger("pressroom.idempotency")
# Longer than any request may run (queries time out after 15 s): a claim older than this
# belongs to a request that died.
CLAIM_SECONDS = 60
# Expired keys removed per new key: enough to keep up with any rate of new keys.
EXPIRED_PER_CLAIM = 100
# The periodic job removes expired keys this many to a transaction: short ones, so that on
# SQLite the requests writing meanwhile wait for one batch at most, never for the whole sweep.
EXPIRED_PER_BATCH = 1000
EXPIRE_KEYS_JOB = "idempotency.expire"
LOST_CLAIM = "This Idempotency-Key was taken over by a retry; its reply is the one kept"


@dataclass(slots=True)
class Claim:
    """A key this request holds while it makes its change."""

    key_id: int
    attempt: str
    recorded: RecordedReply | None = field(default=None)

    def receipt(self, reply: Callable[[T], RecordedReply]) -> ClaimReceipt[T]:
        return ClaimReceipt(self, reply)


class ClaimReceipt(Generic[T]):
    def __init__(self, claim: Claim, reply: Callable[[T], RecordedReply]) -> None:
        self.claim = claim
        self.reply = reply

    async def record(self, conn: AsyncConnection, result: T) -> None:
        recorded = self.reply(result)
        completed = await IdempotencyRepository(conn).complete(
            self.claim.key_id,
            self.claim.attempt,
            recorded.status,
            recorded.body,
            recorded.location,
        )
        if not completed:
            raise IdempotencyKeyInUse(LOST_CLAIM)
        self.claim.recorded = recorded


class IdempotencyService:
    def __init__(self, ttl_seconds: int) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)

    async def begin(
        self, uow: UnitOfWork, scope: str, key: str, fingerprint: str
    ) -> Claim | RecordedReply:
        """A claim on the key, or the reply to replay. Raises IdempotencyKeyReused for another
        request under the key, IdempotencyKeyInUse while its first request runs."""
        now = utcnow()
        attempt = secrets.token_hex(16)
        locked_until = now + timedelta(seconds=CLAIM_SECONDS)
        async with uow.write() as conn:
            repo = IdempotencyRepository(conn)
            # Expired on read: a key past its retention is a new key; and cleaned on write.
            await repo.delete_expired(now, scope=scope, key=key, batch=EXPIRED_PER_CLAIM)
            key_id = await repo.insert_new(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                attempt=attempt,
                locked_until=locked_until,
                now=now,
                expires_at=now + self.ttl,
            )
            if key_id is not None:
                return Claim(key_id, attempt)
            found = await repo.get_held(scope, key)
            if found is None:  # expired and removed by another request meanwhile
                raise IdempotencyKeyInUse()
            if found.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            replay = _reply_of(found)
            if replay is not None:
                return replay
            if found.locked_until is not None and found.locked_until > now:
                raise IdempotencyKeyInUse()
            # The first request died before its commit (it would have completed the row).
            await repo.take_over(found.id, attempt, locked_until)
            return Claim(found.id, attempt)

    async def expire(self, uow: UnitOfWork) -> int:
        """Removes every key past its retention (the periodic job `idempotency.expire`); how
        many went. A key is judged by the time of its own batch: one expiring during the sweep
        goes in a later batch or the next sweep, and until then a request finds it expired."""
        removed = 0
        while True:
            async with uow.write() as conn:
                batch = await IdempotencyRepository(conn).delete_some_expired(
                    utcnow(), EXPIRED_PER_BATCH
                )
            removed += batch
            if batch < EXPIRED_PER_BATCH:
                log.info("idempotency_keys_expired", removed=removed)
                return removed

    async def abandon(self, uow: UnitOfWork, claim: Claim) -> None:
        """Gives the key back after a request that changed nothing, so a retry may run."""
        async with uow.write() as conn:
            await IdempotencyRepository(conn).release(claim.key_id, claim.attempt)


def _reply_of(found: KeyRecord) -> RecordedReply | None:
    if found.response_status is None:
        return None
    return RecordedReply(found.response_status, found.response_body or b"", found.response_location)
