"""All SQL about idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: int
    fingerprint: str
    attempt: str
    locked_until: datetime | None
    response_status: int | None
    response_location: str | None
    response_body: bytes | None


class IdempotencyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.is_sqlite = conn.dialect.name == "sqlite"

    async def insert_new(
        self,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        attempt: str,
        locked_until: datetime,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        """The new row's id; None when the key is already there (the unique index decides, so
        of two at once exactly one inserts: on PostgreSQL the other waits for its commit)."""
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        statement = (
            dialect_insert(keys)
            .values(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                attempt=attempt,
                locked_until=locked_until,
                created_at=now,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=[keys.c.scope, keys.c.key])
            .returning(keys.c.id)
        )
        key_id: int | None = await self.conn.scalar(statement)
        return key_id

    async def get_held(self, scope: str, key: str) -> KeyRecord | None:
        """The key's row, held until the transaction ends (a takeover decides on it)."""
        statement = select(
            keys.c.id,
            keys.c.fingerprint,
            keys.c.attempt,
            keys.c.locked_until,
            keys.c.response_status,
            keys.c.response_location,
            keys.c.response_body,
        ).where(keys.c.scope == scope, keys.c.key == key)
        if not self.is_sqlite:
            statement = statement.with_for_update()
        row = (await self.conn.execute(statement)).first()
        return KeyRecord(*row) if row else None

    async def take_over(self, key_id: int, attempt: str, locked_until: datetime) -> None:
        await self.conn.execute(
            update(keys)
            .where(keys.c.id == key_id)
            .values(attempt=attempt, locked_until=locked_until)
        )

    async def complete(
        self, key_id: int, attempt: str, status: int, body: bytes, location: str | None
    ) -> bool:
        """Stores the reply, if this attempt still holds the key."""
        result = await self.conn.execute(
            update(keys)
            .where(
                keys.c.id == key_id,
                keys.c.attempt == attempt,
                keys.c.response_status.is_(None),
            )
            .values(
                response_status=status,
                response_body=body,
                response_location=location,
                locked_until=None,
            )
        )
        return result.rowcount == 1

    async def release(self, key_id: int, attempt: str) -> None:
        await self.conn.execute(
            delete(keys).where(
                keys.c.id == key_id, keys.c.attempt == attempt, keys.c.response_status.is_(None)
            )
        )

    async def delete_expired(self, now: datetime, *, scope: str, key: str, batch: int) -> int:
        """This key's row if it has expired, and up to `batch` other expired rows."""
        await self.conn.execute(
            delete(keys).where(keys.c.scope == scope, keys.c.key == key, keys.c.expires_at <= now)
        )
        return await self.delete_some_expired(now, batch)

    async def delete_some_expired(self, now: datetime, batch: int) -> int:
        """Up to `batch` rows past their retention; how many went."""
        oldest = select(keys.c.id).where(keys.c.expires_at <= now).limit(batch).scalar_subquery()
        result = await self.conn.execute(delete(keys).where(keys.c.id.in_(oldest)))
        return result.rowcount
