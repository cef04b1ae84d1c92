"""Plain records the users repository returns and the services pass up; no ORM entities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pressroom.kit.output import output
from pressroom.kit.sorting import SortField
from pressroom.users.sorting import UserSortKey


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 2.5x the cost,
# and a page of posts builds 120 of these records; nothing changes a record once built.
@output
@dataclass(slots=True)
class Profile:
    first_name: str
    last_name: str
    avatar_url: str | None
    bio: str | None


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    email_verified: bool
    roles: tuple[str, ...]
    profile: Profile
    email_notifications: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as one actor may see it: `full` means email, roles and settings are visible."""

    user: UserRecord
    full: bool


# Not frozen, like Profile (see there).
@output
@dataclass(slots=True)
class Author:
    id: int
    profile: Profile


NEWEST_FIRST = (SortField(UserSortKey.CREATED_AT, descending=True),)


@dataclass(frozen=True, slots=True)
class UserQuery:
    """A user list as a service asks for it: who asks (only `users:manage` holders may find
    users by their email, which no one else sees), which users, in which order. The repository
    builds and caches the SQL; nothing here is SQL. Hashable and compared by value."""

    reader_manages_users: bool
    search: str | None = None
    role: str | None = None
    sort: tuple[SortField[UserSortKey], ...] = NEWEST_FIRST
