"""Request bodies and response shapes of sign-in and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pressroom.auth.models import SessionRecord, TokenPair
from pressroom.kit.clock import rfc3339
from pressroom.kit.validation import InputModel

MAX_TOKEN_CHARS = 512


class LoginRequest(InputModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS)


class TokenPairOut(BaseModel):
    accessToken: str  # noqa: N815
    refreshToken: str  # noqa: N815
    tokenType: Literal["Bearer"]  # noqa: N815
    expiresIn: int  # noqa: N815


class SessionOut(BaseModel):
    id: int
    createdAt: datetime  # noqa: N815
    lastUsedAt: datetime  # noqa: N815
    userAgent: str | None  # noqa: N815
    ip: str | None
    current: bool


class SessionList(BaseModel):
    data: list[SessionOut]


def token_pair_json(pair: TokenPair) -> dict[str, Any]:
    return {
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": pair.expires_in,
    }


def session_json(session: SessionRecord, current_session_id: int | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "createdAt": rfc3339(session.created_at),
        "lastUsedAt": rfc3339(session.last_used_at),
        "userAgent": session.user_agent,
        "ip": session.ip,
        "current": session.id == current_session_id,
    }
