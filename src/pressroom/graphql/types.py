"""GraphQL output and input types: the seed's names, shaped from the services' plain records.

Input fields are plain Strings (and Booleans), validated by the same pydantic models as REST
bodies, so a bad value comes back in the mutation payload's `errors` by field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from graphql import FieldNode
from pydantic.alias_generators import to_camel
from strawberry.types.field import StrawberryField

from pressroom.graphql.context import Context
from pressroom.graphql.errors import UserError, answer
from pressroom.kit.cursors import Slice, encode_cursor, slice_request
from pressroom.kit.errors import NotFound
from pressroom.posts.models import PostRecord
from pressroom.tags.models import TagRecord, TagRef
from pressroom.users import models as users_models
from pressroom.users.models import Author, UserView

T = TypeVar("T")
Info = strawberry.Info[Context, None]


def described(
    description: str, graphql_type: Any = None
) -> Callable[[Callable[..., Any]], StrawberryField]:
    """`@strawberry.field(description=...)`, typed (strawberry's own overload returns Any)."""

    def decorate(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.field(resolver, description=description, graphql_type=graphql_type)

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


# --- users ---------------------------------------------------------------------------------------
#
# Objects are shaped once, from the services' records, into plain attributes: graphql-core then
# reads each field with Strawberry's attribute resolver instead of calling a resolver function
# with its `Info` and argument wrappers, which cost ~10 µs a field (docs/performance.md, (d)).


@strawberry.type
class Profile:
    first_name: str
    last_name: str
    avatar_url: str | None
    bio: str | None

    @classmethod
    def of(cls, profile: users_models.Profile) -> Profile:
        return cls(
            first_name=profile.first_name,
            last_name=profile.last_name,
            avatar_url=profile.avatar_url,
            bio=profile.bio,
        )


@strawberry.type
class UserSettings:
    email_notifications: bool


async def posts_of_user(
    root: User, info: Info, first: int | None = 20, after: str | None = None
) -> Connection[Post]:
    async def load() -> Connection[Post]:
        request = slice_request(first, after)
        found = await info.context.loaders.posts_of_users.load((root.view.user.id, request))
        # Every post here is by this user: their author needs no further query.
        info.context.loaders.saw_users([root.view])
        return connection(found, Post.of)

    return await answer(load(), info.context.response)


@strawberry.type(
    description="A user. `email`, `emailVerified`, `roles`, `settings` and `updatedAt` are "
    "null unless the viewer is this user or holds users:manage (as in REST)."
)
class User:
    id: strawberry.ID
    email: str | None
    email_verified: bool | None
    roles: list[str] | None
    profile: Profile
    settings: UserSettings | None
    view: strawberry.Private[UserView]

    posts: Connection[Post] = strawberry.field(
        resolver=posts_of_user,
        description="Published posts, and drafts for their author and moderators",
    )
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, view: UserView) -> User:
        user, full = view.user, view.full
        return cls(
            id=graphql_id(user.id),
            email=user.email if full else None,
            email_verified=user.email_verified if full else None,
            roles=list(user.roles) if full else None,
            profile=Profile.of(user.profile),
            settings=UserSettings(email_notifications=user.email_notifications) if full else None,
            created_at=user.created_at,
            updated_at=user.updated_at if full else None,
            view=view,
        )


@dataclass(frozen=True, slots=True)
class PostAuthor:
    """A post's author as the post's own statement knows it: what `User` answers for `id` and
    `profile`, the fields every viewer may see. Served as the `User` when a query asks for
    nothing else of the author, which saves the users statement (see `Post.author`)."""

    id: strawberry.ID
    profile: Profile


# What `PostAuthor` can answer; any other field, or a fragment, loads the author's `UserView`.
POST_AUTHOR_FIELDS = frozenset({"id", "profile", "__typename"})


def asks_only_post_author_fields(info: Info) -> bool:
    # The syntax nodes of the field, not `info.selected_fields`: that one converts the whole
    # sub-selection into new objects on every call, 20 µs for each post of a list.
    return all(
        isinstance(selection, FieldNode) and selection.name.value in POST_AUTHOR_FIELDS
        # graphql-core's own info, for its syntax nodes: Strawberry's Info has no public name.
        for node in info._raw_info.field_nodes  # noqa: SLF001
        for selection in (node.selection_set.selections if node.selection_set else ())
    )


# --- posts and tags ----------------------------------------------------------------------------


@strawberry.type
class Tag:
    id: strawberry.ID
    name: str
    slug: str
    tag_id: strawberry.Private[int]
    known_post_count: strawberry.Private[int | None] = None

    @described("How many published posts carry this tag", graphql_type=int)
    def post_count(self, info: Info) -> int | Awaitable[int]:
        # Not a coroutine: a tag list knows its counts, and a value needs no await.
        if self.known_post_count is not None:
            return self.known_post_count
        return info.context.loaders.tag_post_counts.load(self.tag_id)

    @classmethod
    def of(cls, tag: TagRecord | TagRef) -> Tag:
        """A tag of a list (which counts its posts) or of a post (which does not)."""
        return cls(
            id=graphql_id(tag.id),
            name=tag.name,
            slug=tag.slug,
            tag_id=tag.id,
            known_post_count=tag.post_count if isinstance(tag, TagRecord) else None,
        )


def author_of_post(root: Post, info: Info) -> User | PostAuthor | Awaitable[User]:
    # Not a coroutine: with only `id` and `profile` asked, the whole list stays synchronous.
    author = root.author_record
    if asks_only_post_author_fields(info):
        return PostAuthor(id=graphql_id(author.id), profile=Profile.of(author.profile))

    async def load() -> User:
        view = await info.context.loaders.users.load(author.id)
        if view is None:  # deleted between two statements of this request
            raise NotFound("User not found")
        return User.of(view)

    return answer(load(), info.context.response)


@strawberry.type
class Post:
    id: strawberry.ID
    title: str
    content: str
    published: bool
    published_at: datetime | None
    author_record: strawberry.Private[Author]

    author: User | PostAuthor | Awaitable[User] = strawberry.field(
        resolver=author_of_post, graphql_type=User
    )
    tags: list[Tag]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: PostRecord) -> Post:
        return cls(
            id=graphql_id(record.id),
            title=record.title,
            content=record.content,
            published=record.published,
            published_at=record.published_at,
            author_record=record.author,
            tags=[Tag.of(tag) for tag in record.tags],
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


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
