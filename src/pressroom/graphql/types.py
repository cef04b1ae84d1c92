"""GraphQL output and input types: the seed's names, shaped from the services' plain records.

Input fields are plain Strings (and Booleans), validated by the same pydantic models as REST
bodies, so a bad value comes back in the mutation payload's `errors` by field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from pydantic.alias_generators import to_camel
from strawberry.types.field import StrawberryField

from pressroom.graphql.context import Context
from pressroom.graphql.errors import UserError, answer
from pressroom.kit.cursors import Slice, encode_cursor, slice_request
from pressroom.kit.errors import NotFound
from pressroom.posts.models import PostRecord
from pressroom.tags.models import TagRecord, TagRef
from pressroom.users.models import UserView

T = TypeVar("T")
Info = strawberry.Info[Context, None]


def described(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    """`@strawberry.field(description=...)`, typed (strawberry's own overload returns Any)."""

    def decorate(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.field(resolver, description=description)

    return decorate


def described_mutation(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    def decorate(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.mutation(resolver, description=description)

    return decorate


def graphql_id(value: int) -> strawberry.ID:
    return strawberry.ID(str(value))


# --- connections (Relay) ---------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


R = TypeVar("R")


def connection(found: Slice[R], shape: Callable[[R], T]) -> Connection[T]:
    cursors = [encode_cursor(position) for position in found.positions]
    return Connection(
        edges=[
            Edge(cursor=cursor, node=shape(item))
            for cursor, item in zip(cursors, found.items, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=found.has_next,
            has_previous_page=found.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=found.total,
    )


# --- users -------------------------------------------------------------------------------------


@strawberry.type
class Profile:
    first_name: str
    last_name: str
    avatar_url: str | None
    bio: str | None


@strawberry.type
class UserSettings:
    email_notifications: bool


@strawberry.type(
    description="A user. `email`, `emailVerified`, `roles`, `settings` and `updatedAt` are "
    "null unless the viewer is this user or holds users:manage (as in REST)."
)
class User:
    view: strawberry.Private[UserView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return graphql_id(self.view.user.id)

    @strawberry.field
    def email(self) -> str | None:
        return self.view.user.email if self.view.full else None

    @strawberry.field
    def email_verified(self) -> bool | None:
        return self.view.user.email_verified if self.view.full else None

    @strawberry.field
    def roles(self) -> list[str] | None:
        return list(self.view.user.roles) if self.view.full else None

    @strawberry.field
    def profile(self) -> Profile:
        p = self.view.user.profile
        return Profile(
            first_name=p.first_name, last_name=p.last_name, avatar_url=p.avatar_url, bio=p.bio
        )

    @strawberry.field
    def settings(self) -> UserSettings | None:
        if not self.view.full:
            return None
        return UserSettings(email_notifications=self.view.user.email_notifications)

    @described("Published posts, and drafts for their author and moderators")
    async def posts(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Post]:
        async def load() -> Connection[Post]:
            request = slice_request(first, after)
            found = await info.context.loaders.posts_of_users.load((self.view.user.id, request))
            # Every post here is by this user: their author needs no further query.
            info.context.loaders.saw_users([self.view])
            return connection(found, Post.of)

        return await answer(load(), info.context.response)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.view.user.created_at

    @strawberry.field
    def updated_at(self) -> datetime | None:
        return self.view.user.updated_at if self.view.full else None

    @classmethod
    def of(cls, view: UserView) -> User:
        return cls(view=view)


# --- posts and tags ----------------------------------------------------------------------------


@strawberry.type
class Tag:
    ref: strawberry.Private[TagRef]
    known_post_count: strawberry.Private[int | None] = None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return graphql_id(self.ref.id)

    @strawberry.field
    def name(self) -> str:
        return self.ref.name

    @strawberry.field
    def slug(self) -> str:
        return self.ref.slug

    @described("How many published posts carry this tag")
    async def post_count(self, info: Info) -> int:
        if self.known_post_count is not None:
            return self.known_post_count
        return await info.context.loaders.tag_post_counts.load(self.ref.id)

    @classmethod
    def of(cls, tag: TagRecord) -> Tag:
        return cls(ref=TagRef(tag.id, tag.name, tag.slug), known_post_count=tag.post_count)


@strawberry.type
class Post:
    record: strawberry.Private[PostRecord]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return graphql_id(self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def content(self) -> str:
        return self.record.content

    @strawberry.field
    def published(self) -> bool:
        return self.record.published

    @strawberry.field
    def published_at(self) -> datetime | None:
        return self.record.published_at

    @strawberry.field
    async def author(self, info: Info) -> User:
        async def load() -> User:
            view = await info.context.loaders.users.load(self.record.author.id)
            if view is None:  # deleted between two statements of this request
                raise NotFound("User not found")
            return User.of(view)

        return await answer(load(), info.context.response)

    @strawberry.field
    def tags(self) -> list[Tag]:
        return [Tag(ref=tag) for tag in self.record.tags]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @classmethod
    def of(cls, record: PostRecord) -> Post:
        return cls(record=record)


# --- inputs ------------------------------------------------------------------------------------


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


# --- payloads ----------------------------------------------------------------------------------


@strawberry.type
class CreateUserPayload:
    user: User | None
    errors: list[UserError] | None


@strawberry.type
class UpdateUserPayload:
    user: User | None
    errors: list[UserError] | None


@strawberry.type
class DeleteUserPayload:
    deleted_user_id: strawberry.ID | None
    errors: list[UserError] | None


@strawberry.type
class CreatePostPayload:
    post: Post | None
    errors: list[UserError] | None


@strawberry.type
class UpdatePostPayload:
    post: Post | None
    errors: list[UserError] | None


@strawberry.type
class DeletePostPayload:
    deleted_post_id: strawberry.ID | None
    errors: list[UserError] | None


@strawberry.type(description="As REST's token pair: a 15-minute access token, a refresh token")
class AuthTokens:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


@strawberry.type
class LoginPayload:
    tokens: AuthTokens | None
    errors: list[UserError] | None


@strawberry.type
class RefreshTokenPayload:
    tokens: AuthTokens | None
    errors: list[UserError] | None
