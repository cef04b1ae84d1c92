"""Plain records the users repository returns and the services pass up; no ORM entities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pressroom.kit.output import output


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
