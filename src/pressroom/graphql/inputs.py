"""GraphQL inputs, and their conversion to the JSON body REST would receive.

Input fields are plain Strings (and Booleans), validated by the same pydantic models as REST
bodies, so a bad value comes back in the mutation payload's `errors` by field. Ids and filter
values are checked against the bounds REST's query strings use (kit/bounds.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import strawberry
from pydantic.alias_generators import to_camel

from pressroom.kit.bounds import MAX_ID
from pressroom.kit.errors import ValidationFailed

V = TypeVar("V")


def given(value: V | None) -> V | None:
    """An input field the client left out reads as None."""
    return None if value is strawberry.UNSET else value


def parse_id(value: str, field: str = "id") -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise ValidationFailed.on(field, "must be a positive integer id")
    return int(value)


def bounded(value: str | None, field: str, max_chars: int) -> str | None:
    """A filter's text within the bound REST's query string puts on the same parameter."""
    if value is not None and len(value) > max_chars:
        raise ValidationFailed.on(field, f"must be at most {max_chars} characters")
    return value


@strawberry.input
class PaginationInput:
    first: int | None = strawberry.UNSET
    after: str | None = strawberry.UNSET


@strawberry.input
class UserFilter:
    q: str | None = strawberry.UNSET
    role: str | None = strawberry.UNSET


@strawberry.input
class PostFilter:
    published: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="false lists the drafts the caller may see instead of published posts",
    )
    tag: str | None = strawberry.field(default=strawberry.UNSET, description="a tag slug")
    author: strawberry.ID | None = strawberry.UNSET
    q: str | None = strawberry.UNSET


@strawberry.input(description="All fields optional here; createUser needs both names")
class ProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET


@strawberry.input
class SettingsInput:
    email_notifications: bool | None = strawberry.UNSET


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    profile: ProfileInput


@strawberry.input
class UpdateUserInput:
    profile: ProfileInput | None = strawberry.UNSET
    settings: SettingsInput | None = strawberry.UNSET
    roles: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="users:manage holders only"
    )


@strawberry.input
class CreatePostInput:
    title: str
    content: str
    published: bool | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="tag names; unknown tags are created"
    )


@strawberry.input
class UpdatePostInput:
    title: str | None = strawberry.UNSET
    content: str | None = strawberry.UNSET
    published: bool | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


def input_dict(value: object) -> dict[str, Any]:
    """A GraphQL input as the JSON body REST would receive: camelCase keys, fields the client
    left out left out (so PATCH semantics match), explicit nulls kept (so they are refused or
    applied exactly as in REST)."""
    return {
        to_camel(field.name): _plain(getattr(value, field.name))
        for field in dataclasses.fields(value)  # type: ignore[arg-type]
        if getattr(value, field.name) is not strawberry.UNSET
    }


def _plain(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value
