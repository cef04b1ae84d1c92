"""Query and Mutation: parse, call one service method, shape. No rules live here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from pydantic import BaseModel

from pressroom.auth.actor import Actor
from pressroom.auth.endpoints import NO_STORE
from pressroom.auth.models import TokenPair
from pressroom.auth.schemas import LoginRequest, RefreshRequest
from pressroom.db.units import UnitOfWork
from pressroom.graphql.errors import UserError, answer, answer_or_null, attempt
from pressroom.graphql.inputs import (
    CreatePostInput,
    CreateUserInput,
    LoginInput,
    PaginationInput,
    PostFilter,
    RefreshTokenInput,
    UpdatePostInput,
    UpdateUserInput,
    UserFilter,
    bounded,
    given,
    input_dict,
    parse_id,
)
from pressroom.graphql.relay import (
    Connection,
    connection,
)
from pressroom.graphql.types import (
    AuthTokens,
    CreatePostPayload,
    CreateUserPayload,
    DeletePostPayload,
    DeleteUserPayload,
    Info,
    LoginPayload,
    Post,
    RefreshTokenPayload,
    Tag,
    UpdatePostPayload,
    UpdateUserPayload,
    User,
    described,
    described_mutation,
    graphql_id,
)
from pressroom.kit.bounds import ROLE_MAX_CHARS, SEARCH_MAX_CHARS, SLUG_MAX_CHARS
from pressroom.kit.cursors import MAX_SLICE_SIZE, slice_request
from pressroom.kit.validation import parse_input
from pressroom.posts import models as post_models
from pressroom.posts.schemas import CreatePostRequest, UpdatePostRequest
from pressroom.users.schemas import UpdateUserRequest

V = TypeVar("V")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


def tokens(pair: TokenPair) -> AuthTokens:
    return AuthTokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="Bearer",
        expires_in=pair.expires_in,
    )


@strawberry.type
class Query:
    @described("Signed-in callers; null when no such (live) user")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        ctx = info.context

        async def load() -> User:
            view = await ctx.services.users.get(ctx.uow, ctx.actor, parse_id(id))
            ctx.loaders.saw_users([view])
            return User.of(view)

        return await answer_or_null(load(), info.context.response)

    @described(
        f"Signed-in callers; newest first; `first` 0..{MAX_SLICE_SIZE} (default 20)."
        " Filtering by role and matching `q` against emails are for users:manage holders."
    )
    async def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        pagination: PaginationInput | None = None,
    ) -> Connection[User]:
        ctx = info.context

        async def load() -> Connection[User]:
            page = pagination or PaginationInput()
            request = slice_request(given(page.first), given(page.after))
            wanted = filter or UserFilter()
            found = await ctx.services.users.list_slice(
                ctx.uow,
                ctx.actor,
                request,
                search=bounded(given(wanted.q), "q", SEARCH_MAX_CHARS),
                role=bounded(given(wanted.role), "role", ROLE_MAX_CHARS),
            )
            ctx.loaders.saw_users(found.items)
            return connection(found, User.of)

        return await answer(load(), info.context.response)

    @described("The signed-in caller; null for anonymous callers")
    async def current_user(self, info: Info) -> User | None:
        ctx = info.context
        if not ctx.actor.is_authenticated:
            return None

        async def load() -> User:
            view = await ctx.services.users.current(ctx.uow, ctx.actor)
            ctx.loaders.saw_users([view])
            return User.of(view)

        return await answer_or_null(load(), info.context.response)

    @described("Drafts only for their author, moderators and admins")
    async def post(self, info: Info, id: strawberry.ID) -> Post | None:
        ctx = info.context

        async def load() -> Post:
            return Post.of(await ctx.services.posts.get(ctx.uow, ctx.actor, parse_id(id)))

        return await answer_or_null(load(), info.context.response)

    @described(
        "Published posts, newest published first; with `published: false`, the "
        "drafts the caller may see, newest first"
    )
    async def posts(
        self,
        info: Info,
        filter: PostFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Post]:
        ctx = info.context

        async def load() -> Connection[Post]:
            request = slice_request(first, after)
            wanted = filter or PostFilter()
            author = given(wanted.author)
            query = post_models.PostFilter(
                published=given(wanted.published) is not False,
                tag_slug=bounded(given(wanted.tag), "tag", SLUG_MAX_CHARS),
                author_id=None if author is None else parse_id(author, "author"),
                search=bounded(given(wanted.q), "q", SEARCH_MAX_CHARS),
            )
            found = await ctx.services.posts.list_slice(ctx.uow, ctx.actor, request, query)
            return connection(found, Post.of)

        return await answer(load(), info.context.response)

    @described("The tags of published posts (by live authors), A to Z")
    async def tags(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> Connection[Tag]:
        ctx = info.context

        async def load() -> Connection[Tag]:
            found = await ctx.services.tags.list_slice(ctx.uow, slice_request(first, after))
            return connection(found, Tag.of)

        return await answer(load(), info.context.response)


@strawberry.type
class Mutation:
    @described_mutation("Sign-up, open to anyone")
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        ctx = info.context

        async def run() -> User:
            data = ctx.services.users.sign_up_input(input_dict(input))
            return User.of(await ctx.services.users.sign_up(ctx.uow, data, client=ctx.client))

        user, errors = await attempt(run(), info.context.response)
        return CreateUserPayload(user=user, errors=errors)

    @described_mutation("Oneself, or users:manage holders; roles only by the latter")
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput
    ) -> UpdateUserPayload:
        users = info.context.services.users
        user, errors = await update_by_id(info, id, input, UpdateUserRequest, users.update, User.of)
        return UpdateUserPayload(user=user, errors=errors)

    @described_mutation("Soft delete; ends every session of the user")
    async def delete_user(self, info: Info, id: strawberry.ID) -> DeleteUserPayload:
        deleted, errors = await delete_by_id(info, id, info.context.services.users.delete)
        return DeleteUserPayload(deleted_user_id=deleted, errors=errors)

    @strawberry.mutation
    async def create_post(self, info: Info, input: CreatePostInput) -> CreatePostPayload:
        ctx = info.context

        async def run() -> Post:
            ctx.actor.require_user_id()
            data = parse_input(CreatePostRequest, input_dict(input))
            return Post.of(await ctx.services.posts.create(ctx.uow, ctx.actor, data))

        post, errors = await attempt(run(), info.context.response)
        return CreatePostPayload(post=post, errors=errors)

    @described_mutation("The author, or an admin")
    async def update_post(
        self, info: Info, id: strawberry.ID, input: UpdatePostInput
    ) -> UpdatePostPayload:
        posts = info.context.services.posts
        post, errors = await update_by_id(info, id, input, UpdatePostRequest, posts.update, Post.of)
        return UpdatePostPayload(post=post, errors=errors)

    @described_mutation("The author, or posts:delete holders")
    async def delete_post(self, info: Info, id: strawberry.ID) -> DeletePostPayload:
        deleted, errors = await delete_by_id(info, id, info.context.services.posts.delete)
        return DeletePostPayload(deleted_post_id=deleted, errors=errors)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context

        async def run() -> AuthTokens:
            data = parse_input(LoginRequest, input_dict(input))
            return tokens(
                await ctx.services.auth.login(ctx.uow, data.email, data.password, ctx.client)
            )

        no_store(info)
        pair, errors = await attempt(run(), info.context.response)
        return LoginPayload(tokens=pair, errors=errors)

    @described_mutation("Rotates the refresh token: the one sent stops working")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> RefreshTokenPayload:
        ctx = info.context

        async def run() -> AuthTokens:
            data = parse_input(RefreshRequest, input_dict(input))
            return tokens(await ctx.services.auth.refresh(ctx.uow, data.refresh_token, ctx.client))

        no_store(info)
        pair, errors = await attempt(run(), info.context.response)
        return RefreshTokenPayload(tokens=pair, errors=errors)


async def update_by_id(
    info: Info,
    id: strawberry.ID,
    input: object,
    request: type[M],
    update: Callable[[UnitOfWork, Actor, int, M], Awaitable[R]],
    shape: Callable[[R], V],
) -> tuple[V | None, list[UserError]]:
    """An update mutation: the actor, the id, then the input, checked in REST's order."""
    actor = info.context.actor

    async def run() -> V:
        actor.require_user_id()  # who asks comes before what they sent, as in REST
        target = parse_id(id)
        changes = parse_input(request, input_dict(input))
        return shape(await update(info.context.uow, actor, target, changes))

    return await attempt(run(), info.context.response)


async def delete_by_id(
    info: Info, id: strawberry.ID, delete: Callable[[UnitOfWork, Actor, int], Awaitable[None]]
) -> tuple[strawberry.ID | None, list[UserError]]:
    actor = info.context.actor

    async def run() -> strawberry.ID:
        actor.require_user_id()
        target = parse_id(id)
        await delete(info.context.uow, actor, target)
        return graphql_id(target)

    return await attempt(run(), info.context.response)


def no_store(info: Info) -> None:
    if info.context.response is not None:
        info.context.response.headers.update(NO_STORE)
