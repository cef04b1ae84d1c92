"""Plain records about sign-in sessions and refresh tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """What one access-token check needs to know about its session, in one query."""

    user_id: int
    email: str
    roles: tuple[str, ...]
    live: bool


@dataclass(frozen=True, slots=True)
class PresentedRefreshToken:
    token_id: int
    session_id: int
    user_id: int
    rotated_at: datetime | None
    session_live: bool


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
