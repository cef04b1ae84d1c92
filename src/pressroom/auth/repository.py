"""All SQL about sessions (refresh-token families) and the refresh tokens in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from pressroom.auth.models import PresentedRefreshToken, SessionPrincipal, SessionRecord
from pressroom.db.direct import DirectQuery
from pressroom.db.tables import refresh_tokens, sessions, users
from pressroom.users.repository import email_is, roles_of_user, split_roles

USER_AGENT_MAX_CHARS = 255


def _session_live(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > now,
        users.c.deleted_at.is_(None),
    )


# Every authenticated request runs this one: built once, since building a statement and its cache
# key cost more CPU than executing it, and run on the driver itself (docs/performance.md).
_PRINCIPAL = DirectQuery(
    select(
        sessions.c.user_id,
        users.c.email,
        roles_of_user().label("roles"),
        _session_live(bindparam("now", type_=sessions.c.expires_at.type)).label("live"),
    )
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
    .where(sessions.c.id == bindparam("session_id"))
)


class SessionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def principal(self, session_id: int, now: datetime) -> SessionPrincipal | None:
        row = await _PRINCIPAL.first(self.conn, {"now": now, "session_id": session_id})
        if row is None:
            return None
        return SessionPrincipal(
            row["user_id"], row["email"], split_roles(row["roles"]), bool(row["live"])
        )

    async def start(
        self,
        *,
        user_id: int,
        token_digest: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str | None,
        ip: str | None,
    ) -> int:
        session_id = await self.conn.scalar(
            insert(sessions)
            .values(
                user_id=user_id,
                created_at=now,
                last_used_at=now,
                expires_at=expires_at,
                user_agent=(user_agent or None) and user_agent[:USER_AGENT_MAX_CHARS],
                ip=ip,
            )
            .returning(sessions.c.id)
        )
        assert session_id is not None
        await self.conn.execute(
            insert(refresh_tokens).values(
                session_id=session_id, token_hash=token_digest, created_at=now
            )
        )
        return int(session_id)

    async def find_token(self, token_digest: str, now: datetime) -> PresentedRefreshToken | None:
        row = (
            await self.conn.execute(
                select(
                    refresh_tokens.c.id,
                    refresh_tokens.c.session_id,
                    refresh_tokens.c.rotated_at,
                    sessions.c.user_id,
                    _session_live(now).label("live"),
                )
                .select_from(
                    refresh_tokens.join(
                        sessions, sessions.c.id == refresh_tokens.c.session_id
                    ).join(users, users.c.id == sessions.c.user_id)
                )
                .where(refresh_tokens.c.token_hash == token_digest)
            )
        ).first()
        if row is None:
            return None
        return PresentedRefreshToken(
            row.id, row.session_id, row.user_id, row.rotated_at, bool(row.live)
        )

    async def claim_for_rotation(self, token_id: int, now: datetime) -> bool:
        """Mark the token spent; True only for the one caller that found it unspent.

        On PostgreSQL concurrent callers queue on the row lock and re-check the condition once
        the winner commits, so exactly one sees a row updated.
        """
        result = await self.conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.rotated_at.is_(None))
            .values(rotated_at=now)
        )
        return result.rowcount == 1

    async def add_rotated(
        self,
        *,
        session_id: int,
        parent_id: int,
        token_digest: str,
        now: datetime,
        user_agent: str | None,
        ip: str | None,
    ) -> None:
        await self.conn.execute(
            insert(refresh_tokens).values(
                session_id=session_id, token_hash=token_digest, parent_id=parent_id, created_at=now
            )
        )
        values: dict[str, object] = {"last_used_at": now, "ip": ip}
        if user_agent:
            values["user_agent"] = user_agent[:USER_AGENT_MAX_CHARS]
        await self.conn.execute(
            update(sessions).where(sessions.c.id == session_id).values(**values)
        )

    async def has_unspent_child(self, token_id: int) -> bool:
        found = await self.conn.scalar(
            select(refresh_tokens.c.id).where(
                refresh_tokens.c.parent_id == token_id, refresh_tokens.c.rotated_at.is_(None)
            )
        )
        return found is not None

    async def signed_in_from(self, email: str, ip: str) -> bool:
        """Whether the live account with this email was ever signed in to from this address."""
        return bool(
            await self.conn.scalar(
                select(
                    exists().where(
                        sessions.c.user_id == users.c.id,
                        sessions.c.ip == ip,
                        email_is(email),
                        users.c.deleted_at.is_(None),
                    )
                )
            )
        )

    async def revoke(self, session_id: int, now: datetime, reason: str) -> bool:
        result = await self.conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        return result.rowcount == 1

    async def revoke_all(
        self, user_id: int, now: datetime, reason: str, keep_session_id: int | None = None
    ) -> list[int]:
        statement = (
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .returning(sessions.c.id)
        )
        if keep_session_id is not None:
            statement = statement.where(sessions.c.id != keep_session_id)
        return [int(i) for i in (await self.conn.execute(statement)).scalars().all()]

    async def live_sessions(self, user_id: int, now: datetime) -> list[SessionRecord]:
        rows = (
            await self.conn.execute(
                select(
                    sessions.c.id,
                    sessions.c.created_at,
                    sessions.c.last_used_at,
                    sessions.c.user_agent,
                    sessions.c.ip,
                )
                .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
                .where(sessions.c.user_id == user_id, _session_live(now))
                .order_by(sessions.c.last_used_at.desc(), sessions.c.id.desc())
            )
        ).all()
        return [SessionRecord(r.id, r.created_at, r.last_used_at, r.user_agent, r.ip) for r in rows]

    async def owner_of_live(self, session_id: int, now: datetime) -> int | None:
        return await self.conn.scalar(
            select(sessions.c.user_id)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.id == session_id, _session_live(now))
        )
