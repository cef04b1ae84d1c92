"""Request bodies (validated the same way by REST and GraphQL) and response shapes of users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    EmailStr,
    Field,
    Strict,
    StringConstraints,
    field_validator,
)

from pressroom.auth.permissions import Role
from pressroom.kit.email_addresses import normalise_email
from pressroom.kit.output import SHOWN_TO_SOME, Pagination, Timestamp, output
from pressroom.kit.validation import FREE_TEXT, SINGLE_LINE, InputModel
from pressroom.users.models import Profile, UserView

MAX_URL_CHARS = 2048
MAX_BIO_CHARS = 2000
MAX_PASSWORD_INPUT_CHARS = 1024
Name = Annotated[str, StringConstraints(min_length=1, max_length=100), SINGLE_LINE]
Bio = Annotated[str, StringConstraints(max_length=MAX_BIO_CHARS), FREE_TEXT]


def _normalised_email(value: Any) -> Any:
    return normalise_email(value) if isinstance(value, str) else value


# Normalised before it is validated, so what is checked is what is stored (kit/email_addresses).
EmailAddress = Annotated[EmailStr, BeforeValidator(_normalised_email)]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"must be at most {MAX_URL_CHARS} characters")
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        raise ValueError("must be an http or https URL")
    return value


class ProfileInput(InputModel):
    nullable = frozenset({"avatar_url", "bio"})

    first_name: Name
    last_name: Name
    avatar_url: str | None = None
    bio: Bio | None = None

    _check_url = field_validator("avatar_url")(_http_url)


class ProfileChanges(InputModel):
    nullable = frozenset({"avatar_url", "bio"})

    first_name: Name | None = None
    last_name: Name | None = None
    avatar_url: str | None = None
    bio: Bio | None = None

    _check_url = field_validator("avatar_url")(_http_url)


class SettingsChanges(InputModel):
    email_notifications: bool | None = None


class CreateUserRequest(InputModel):
    email: EmailAddress = Field(max_length=320)
    # Checked against the password policy by the service, exactly as sent.
    password: str = Field(max_length=MAX_PASSWORD_INPUT_CHARS)
    profile: ProfileInput


class UpdateUserRequest(InputModel):
    profile: ProfileChanges | None = None
    settings: SettingsChanges | None = None
    # Strict models take enum members only from Python objects, and FastAPI hands the body over
    # as decoded Python, so "admin" needs lax validation here (still exactly one of the values).
    roles: list[Annotated[Role, Strict(False)]] | None = Field(
        default=None, min_length=1, max_length=len(Role)
    )

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[Role] | None) -> list[Role] | None:
        if roles is not None and len(set(roles)) != len(roles):
            raise ValueError("roles must not repeat")
        return roles


class ChangePasswordRequest(InputModel):
    current_password: str = Field(max_length=MAX_PASSWORD_INPUT_CHARS)
    new_password: str = Field(max_length=MAX_PASSWORD_INPUT_CHARS)


# Response shapes (kit/output.py). A profile is its record (`users.models.Profile`).


@output
@dataclass(slots=True)
class SettingsOut:
    email_notifications: bool


@output
@dataclass(slots=True, kw_only=True)
class UserOut:
    """Full view for the user themself and users:manage holders; others: id, profile, createdAt."""

    id: int
    email: Annotated[str | None, SHOWN_TO_SOME] = None
    email_verified: Annotated[bool | None, SHOWN_TO_SOME] = None
    roles: Annotated[tuple[str, ...] | None, SHOWN_TO_SOME] = None
    profile: Profile
    settings: Annotated[SettingsOut | None, SHOWN_TO_SOME] = None
    created_at: Timestamp
    updated_at: Annotated[Timestamp | None, SHOWN_TO_SOME] = None

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        user = view.user
        if not view.full:
            return cls(id=user.id, profile=user.profile, created_at=user.created_at)
        return cls(
            id=user.id,
            email=user.email,
            email_verified=user.email_verified,
            roles=user.roles,
            profile=user.profile,
            settings=SettingsOut(user.email_notifications),
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


@output
@dataclass(slots=True)
class UserPage:
    data: list[UserOut]
    pagination: Pagination
