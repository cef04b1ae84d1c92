"""All SQL about mailed tokens (stored only as digests) and the account changes they make."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from pressroom.accounts.models import LIFETIMES, RedeemedToken, TokenPurpose
from pressroom.db.tables import email_tokens, users


class EmailTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self, *, user_id: int, purpose: TokenPurpose, digest: str, email: str, now: datetime
    ) -> None:
        await self.conn.execute(
            insert(email_tokens).values(
                user_id=user_id,
                purpose=purpose,
                token_hash=digest,
                email=email,
                created_at=now,
                expires_at=now + LIFETIMES[purpose],
            )
        )

    async def usable(self, digest: str, purpose: TokenPurpose, now: datetime) -> bool:
        found = await self.conn.scalar(
            select(email_tokens.c.id)
            .select_from(email_tokens.join(users, users.c.id == email_tokens.c.user_id))
            .where(*_usable(digest, purpose, now), users.c.deleted_at.is_(None))
        )
        return found is not None

    async def redeem(
        self, digest: str, purpose: TokenPurpose, now: datetime
    ) -> RedeemedToken | None:
        """Spend the token: only one caller ever gets it (the UPDATE's condition is re-checked
        under the row lock on PostgreSQL; SQLite's writers are serial). None for a bad, used,
        expired or wrong-purpose token, or one whose account is gone."""
        row = (
            await self.conn.execute(
                update(email_tokens)
                .where(*_usable(digest, purpose, now))
                .values(used_at=now)
                .returning(email_tokens.c.user_id, email_tokens.c.email)
            )
        ).first()
        if row is None:
            return None
        live = await self.conn.scalar(
            select(users.c.id).where(users.c.id == row.user_id, users.c.deleted_at.is_(None))
        )
        return RedeemedToken(row.user_id, row.email) if live is not None else None

    async def void(self, user_id: int, purpose: TokenPurpose, now: datetime) -> None:
        """Every outstanding token of this purpose stops working (a newer reset, a new password)."""
        await self.conn.execute(
            update(email_tokens)
            .where(
                email_tokens.c.user_id == user_id,
                email_tokens.c.purpose == purpose,
                email_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )


def _usable(digest: str, purpose: TokenPurpose, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        email_tokens.c.token_hash == digest,
        email_tokens.c.purpose == purpose,
        email_tokens.c.used_at.is_(None),
        email_tokens.c.expires_at > now,
    )
