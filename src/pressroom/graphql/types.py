"""GraphQL output types and mutation payloads, named as in docs/api.md and shaped from the
services' plain records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from graphql.pyutils import Path
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField

from pressroom.graphql.context import Context
from pressroom.graphql.errors import UserError, answer
from pressroom.graphql.relay import Connection, connection
from pressroom.kit.cursors import slice_request
from pressroom.kit.errors import NotFound
from pressroom.posts.models import PostRecord
from pressroom.tags.models import TagRecord, TagRef
from pressroom.users import models as users_models
from pressroom.users.models import Author, UserView

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


# --- users ---------------------------------------------------------------------------------------
#
# Objects are shaped once, from the services' records, into plain attributes: graphql-core then
# reads each field with Strawberry's attribute resolver instead of calling a resolver function
# with its `Info` and argument wrappers, which cost ~10 µs a field (docs/performance.md, (d)).


# The shape of REST's profile, so GraphQL reads the same record (`users.models.Profile`, the
# profile's response shape) instead of a copy: fields hold that record, typed as this.
@strawberry.type
class Profile:
    first_name: str
    last_name: str
    avatar_url: str | None
    bio: str | None


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
    profile: users_models.Profile = strawberry.field(graphql_type=Profile)
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
            profile=user.profile,
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
    profile: users_models.Profile


# What `PostAuthor` can answer; any other field, or a fragment, loads the author's `UserView`.
POST_AUTHOR_FIELDS = frozenset({"id", "profile", "__typename"})


def asks_only_post_author_fields(info: Info) -> bool:
    # `info.selected_fields` converts the whole sub-selection into new objects (20 µs), and its
    # answer is the same for every post at one place of the answer (list indexes aside; `Post`
    # is in no union or interface): worked out once per place and request.
    place = response_place(info.path)
    known = info.context.author_shapes.get(place)
    if known is None:
        known = info.context.author_shapes[place] = all(
            isinstance(selection, SelectedField) and selection.name in POST_AUTHOR_FIELDS
            for field in info.selected_fields
            for selection in field.selections
        )
    return known


def response_place(path: Path) -> tuple[str, ...]:
    keys: list[str] = []
    step: Path | None = path
    while step is not None:
        if isinstance(step.key, str):
            keys.append(step.key)
        step = step.prev
    return tuple(keys)


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
        return PostAuthor(id=graphql_id(author.id), profile=author.profile)

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
