"""All SQL about users, profiles, settings and roles."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    bindparam,
    delete,
    exc,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from pressroom.db.direct import DirectQuery, ResultRow
from pressroom.db.paging import fetch_slice, page_statements, run_page
from pressroom.db.tables import profiles, user_roles, user_settings, users
from pressroom.kit.cursors import Position
from pressroom.kit.email_addresses import normalise_email
from pressroom.kit.search import escape_like
from pressroom.kit.sorting import SortField
from pressroom.kit.windows import Window, Windowed
from pressroom.users.models import NEWEST_FIRST, Profile, UserQuery, UserRecord
from pressroom.users.sorting import UserSortKey


class EmailTaken(Exception):
    """A live account already has this address (the unique index on lower(email) said so)."""


# GraphQL user lists run newest first; their cursors name this key.
USER_SLICE_KEY = "created_at"


def roles_of_user() -> Any:
    """A correlated subquery: the user's role names, comma-joined (one statement per user row)."""
    return (
        # The separator as SQL text: as a plain string SQLAlchemy renders it anew on each
        # execution, which a statement run on the driver (db/direct.py) cannot have.
        select(func.aggregate_strings(user_roles.c.role, literal_column("','")))  # type: ignore[arg-type]
        .where(user_roles.c.user_id == users.c.id)
        .scalar_subquery()
    )


def split_roles(value: str | None) -> tuple[str, ...]:
    return tuple(sorted(value.split(","))) if value else ()


_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.email_verified,
    users.c.created_at,
    users.c.updated_at,
    profiles.c.first_name,
    profiles.c.last_name,
    profiles.c.avatar_url,
    profiles.c.bio,
    user_settings.c.email_notifications,
    roles_of_user().label("roles"),
)
_USER_SOURCE = users.join(profiles, profiles.c.user_id == users.c.id).outerjoin(
    user_settings, user_settings.c.user_id == users.c.id
)


# Built once: `/users/me` and every profile read run it.
_ONE_USER = DirectQuery(
    select(*_USER_COLUMNS)
    .select_from(_USER_SOURCE)
    .where(users.c.id == bindparam("user_id"), users.c.deleted_at.is_(None))
)


def _record(m: ResultRow) -> UserRecord:
    return UserRecord(
        id=m["id"],
        email=m["email"],
        email_verified=bool(m["email_verified"]),
        roles=split_roles(m["roles"]),
        profile=Profile(m["first_name"], m["last_name"], m["avatar_url"], m["bio"]),
        email_notifications=True
        if m["email_notifications"] is None
        else bool(m["email_notifications"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def email_is(email: str) -> ColumnElement[bool]:
    """The same address, whatever its spelling: normalised here as stored addresses are
    (kit/email_addresses), then folded by the database on both sides as the unique index on
    lower(email) is, so the index serves the lookup."""
    return func.lower(users.c.email) == func.lower(normalise_email(email))


class UserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, user_id: int) -> UserRecord | None:
        row = await _ONE_USER.first(self.conn, {"user_id": user_id})
        return _record(row) if row else None

    async def lock_live(self, user_id: int, *, hold: bool = True) -> bool:
        """Whether the user is live; with `hold`, their row is held (shared) until the
        transaction ends.

        Shared, so one author's concurrent writes do not queue on each other, yet a
        soft delete (an UPDATE of the row) waits for them, and they wait for it: a delete that
        commits first is seen, and the write is refused instead of storing a post for an account
        that is gone. SQLite ignores the lock: its writers run one at a time.
        """
        statement = select(users.c.id).where(users.c.id == user_id, users.c.deleted_at.is_(None))
        if hold:
            statement = statement.with_for_update(read=True)
        return await self.conn.scalar(statement) is not None

    async def email_taken(self, email: str) -> bool:
        found = await self.conn.scalar(
            select(users.c.id).where(email_is(email), users.c.deleted_at.is_(None))
        )
        return found is not None

    async def create(
        self,
        *,
        email: str,
        password_hash: str,
        profile: Profile,
        roles: Sequence[str],
        now: datetime,
    ) -> int:
        try:
            user_id = await self.conn.scalar(
                insert(users)
                .values(
                    email=email,
                    email_verified=False,
                    password_hash=password_hash,
                    created_at=now,
                    updated_at=now,
                )
                .returning(users.c.id)
            )
        except exc.IntegrityError:
            # Two sign-ups with one email raced past the check; the unique index decided.
            raise EmailTaken(email) from None
        assert user_id is not None
        await self.conn.execute(
            insert(profiles).values(
                user_id=user_id,
                first_name=profile.first_name,
                last_name=profile.last_name,
                avatar_url=profile.avatar_url,
                bio=profile.bio,
                updated_at=now,
            )
        )
        await self.conn.execute(
            insert(user_settings).values(user_id=user_id, email_notifications=True)
        )
        await self.conn.execute(
            insert(user_roles), [{"user_id": user_id, "role": role} for role in roles]
        )
        return int(user_id)

    async def find(self, query: UserQuery, window: Window) -> Windowed[UserRecord]:
        """The live users `query` asks for, in its order, within `window`: from an offset by a
        statement built once per shape, or after a cursor by keyset on (created_at, id), newest
        first. Emails are matched only for a reader who may see them."""
        shape, params = _shape_and_params(query)
        if window.after is None and window.size > 0:
            rows, total = await run_page(
                self.conn, *_built_page(shape), window=window, params=params
            )
            items = [_record(row) for row in rows]

            def position_of(n: int) -> Position:
                return Position(USER_SLICE_KEY, items[n].created_at, items[n].id)

            has_next = window.offset + len(items) < total
            return Windowed(items, total, has_next, window.offset > 0, position_of)
        if query.sort != NEWEST_FIRST:
            raise ValueError("user slices run newest first")
        found = await fetch_slice(
            self.conn,
            _USER_QUERY,
            source=_USER_SOURCE,
            where=_where(shape),
            params=params,
            key=users.c.created_at,
            tie=users.c.id,
            size=window.size,
            after=window.after_for(USER_SLICE_KEY),
        )
        return found.windowed([_record(row._mapping) for row in found.rows], USER_SLICE_KEY)

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, UserRecord]:
        """Live users by id, in one statement; unknown and deleted ids are left out."""
        if not user_ids:
            return {}
        rows = await self.conn.execute(
            select(*_USER_COLUMNS)
            .select_from(_USER_SOURCE)
            .where(users.c.id.in_(list(user_ids)), users.c.deleted_at.is_(None))
        )
        return {row.id: _record(row._mapping) for row in rows}

    async def update_profile(self, user_id: int, values: dict[str, Any], now: datetime) -> None:
        await self.conn.execute(
            update(profiles).where(profiles.c.user_id == user_id).values(**values, updated_at=now)
        )

    async def update_settings(self, user_id: int, values: dict[str, Any]) -> None:
        await self.conn.execute(
            update(user_settings).where(user_settings.c.user_id == user_id).values(**values)
        )

    async def set_roles(self, user_id: int, roles: Sequence[str]) -> None:
        await self.conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
        await self.conn.execute(
            insert(user_roles), [{"user_id": user_id, "role": role} for role in roles]
        )

    async def touch(self, user_id: int, now: datetime) -> None:
        await self.conn.execute(update(users).where(users.c.id == user_id).values(updated_at=now))

    async def count_live_admins(self) -> int:
        """Counts and locks the live admins until the transaction ends.

        Without the lock, two admins demoting or deleting each other at once on PostgreSQL both
        counted two and left none. Locked, the second waits, then re-reads the changed rows.
        (SQLite runs one writer at a time and ignores FOR UPDATE.)
        """
        rows = await self.conn.execute(
            select(user_roles.c.user_id)
            .select_from(user_roles.join(users, users.c.id == user_roles.c.user_id))
            .where(user_roles.c.role == "admin", users.c.deleted_at.is_(None))
            .order_by(user_roles.c.user_id)
            .with_for_update()
        )
        return len(rows.all())

    async def soft_delete(self, user_id: int, now: datetime) -> bool:
        result = await self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now)
        )
        return result.rowcount == 1

    async def credentials_by_email(self, email: str) -> tuple[int, str, str] | None:
        """(id, email, password hash) of the live user with this email, any letter case."""
        row = (
            await self.conn.execute(
                select(users.c.id, users.c.email, users.c.password_hash).where(
                    email_is(email), users.c.deleted_at.is_(None)
                )
            )
        ).first()
        return (row.id, row.email, row.password_hash) if row else None

    async def password_hash(self, user_id: int) -> str | None:
        return await self.conn.scalar(
            select(users.c.password_hash).where(users.c.id == user_id, users.c.deleted_at.is_(None))
        )

    async def set_password_hash(self, user_id: int, password_hash: str, now: datetime) -> None:
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, updated_at=now)
        )


# A user list's SQL is built from its shape alone (which filters, whether emails are matched,
# the order), every value bound, and cached by the shape's value.
_SEARCH = func.lower(bindparam("search", type_=String))
_EMAIL_SEARCH = func.lower(bindparam("email_search", type_=String))
_NAME_MATCHES = (
    func.lower(profiles.c.first_name).like(_SEARCH, escape="\\"),
    func.lower(profiles.c.last_name).like(_SEARCH, escape="\\"),
    func.lower(profiles.c.first_name + " " + profiles.c.last_name).like(_SEARCH, escape="\\"),
)
# Addresses are stored normalised; "ＡＮＮ" finds ann@example.com on both databases.
_EMAIL_MATCHES = func.lower(users.c.email).like(_EMAIL_SEARCH, escape="\\")
_HOLDS_ROLE = users.c.id.in_(
    select(user_roles.c.user_id).where(user_roles.c.role == bindparam("role", type_=String))
)
_USER_QUERY = select(*_USER_COLUMNS).select_from(_USER_SOURCE)


@dataclass(frozen=True, slots=True)
class _Shape:
    searching: bool
    emails_matched: bool
    by_role: bool
    sort: tuple[SortField[UserSortKey], ...]


def _shape_and_params(query: UserQuery) -> tuple[_Shape, dict[str, Any]]:
    params: dict[str, Any] = {}
    if query.search:
        # Folded by the database like the column, so "Émile" finds Émile on SQLite too.
        params["search"] = f"%{escape_like(query.search)}%"
        if query.reader_manages_users:
            params["email_search"] = f"%{escape_like(normalise_email(query.search))}%"
    if query.role:
        params["role"] = query.role
    shape = _Shape("search" in params, "email_search" in params, "role" in params, query.sort)
    return shape, params


def _where(shape: _Shape) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [users.c.deleted_at.is_(None)]
    if shape.searching:
        matches = [*_NAME_MATCHES, *([_EMAIL_MATCHES] if shape.emails_matched else [])]
        where.append(or_(*matches))
    if shape.by_role:
        where.append(_HOLDS_ROLE)
    return where


@functools.lru_cache(maxsize=64)
def _built_page(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    order_by = [_sort_column(field) for field in shape.sort]
    order_by.append(users.c.id.desc() if shape.sort[0].descending else users.c.id.asc())
    return page_statements(_USER_QUERY, source=_USER_SOURCE, where=_where(shape), order_by=order_by)


def _sort_column(field: SortField[UserSortKey]) -> ColumnElement[Any]:
    match field.key:
        case UserSortKey.CREATED_AT:
            column: ColumnElement[Any] = users.c.created_at
        case UserSortKey.LAST_NAME:
            column = func.lower(profiles.c.last_name)
        case UserSortKey.EMAIL:
            column = func.lower(users.c.email)
    return column.desc() if field.descending else column.asc()
