"""REST door to posts: /posts, /users/{id}/posts and /tags/{slug}/posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response
from pydantic import Field

from pressroom.api.dependencies import ActorDep, ServicesDep, SignedInActor, UnitDep
from pressroom.kit.bounds import MAX_ID, SEARCH_MAX_CHARS, SLUG_MAX_CHARS, SORT_MAX_CHARS
from pressroom.kit.ids import IdPath
from pressroom.kit.openapi import created, errors
from pressroom.kit.query import ListQuery, documented, query_string
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import api_router
from pressroom.posts.models import PostFilter, PostRecord
from pressroom.posts.schemas import CreatePostRequest, PostPage, UpdatePostRequest
from pressroom.tags.endpoints import Slug

router = api_router(tags=["posts"])
# A tag's posts are a post list like the others, so the route lives here; its own router keeps
# it under the "tags" tag, and app.py adds it after the tags router, where it always stood.
tag_posts_router = api_router("/tags", tags=["tags"])


class SortedPostsQuery(ListQuery):
    sort: str | None = Field(
        None,
        max_length=SORT_MAX_CHARS,
        description="published_at, created_at, title; '-' descends",
    )


class PostListQuery(SortedPostsQuery):
    tag: str | None = Field(None, max_length=SLUG_MAX_CHARS)
    author: int | None = Field(None, ge=1, le=MAX_ID)
    q: str | None = Field(None, max_length=SEARCH_MAX_CHARS)
    published: bool = True


SortedPostsParams = Annotated[SortedPostsQuery, query_string(SortedPostsQuery)]


@router.get(
    "/posts",
    response_model=PostPage,
    responses=errors(401),
    operation_id="listPosts",
    openapi_extra=documented(PostListQuery),
)
async def list_posts(
    query: Annotated[PostListQuery, query_string(PostListQuery)],
    actor: ActorDep,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    wanted = PostFilter(
        published=query.published, tag_slug=query.tag, author_id=query.author, search=query.q
    )
    result = await services.posts.list_posts(uow, actor, query.page_request, wanted, query.sort)
    return JsonResponse(PostPage(result.items, result.pagination()))


@router.post(
    "/posts",
    status_code=201,
    response_model=PostRecord,
    responses=errors(401, 403, 422) | created("/api/v1/posts/{post_id}"),
    operation_id="createPost",
)
async def create_post(
    body: CreatePostRequest, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    post = await services.posts.create(uow, actor, body)
    return JsonResponse(post, status_code=201, headers={"Location": f"/api/v1/posts/{post.id}"})


@router.get(
    "/posts/{post_id}",
    response_model=PostRecord,
    responses=errors(401, 404),
    operation_id="getPost",
)
async def get_post(
    post_id: IdPath, actor: ActorDep, services: ServicesDep, uow: UnitDep
) -> Response:
    return JsonResponse(await services.posts.get(uow, actor, post_id))


@router.patch(
    "/posts/{post_id}",
    response_model=PostRecord,
    responses=errors(401, 403, 404, 422),
    operation_id="updatePost",
)
async def update_post(
    post_id: IdPath,
    body: UpdatePostRequest,
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    return JsonResponse(await services.posts.update(uow, actor, post_id, body))


@router.delete(
    "/posts/{post_id}",
    status_code=204,
    responses=errors(401, 403, 404),
    operation_id="deletePost",
)
async def delete_post(
    post_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.posts.delete(uow, actor, post_id)
    return Response(status_code=204)


@router.get(
    "/users/{user_id:not_me}/posts",
    response_model=PostPage,
    responses=errors(401, 404),
    operation_id="listUserPosts",
    openapi_extra=documented(SortedPostsQuery),
)
async def list_user_posts(
    user_id: IdPath, query: SortedPostsParams, actor: ActorDep, services: ServicesDep, uow: UnitDep
) -> Response:
    result = await services.posts.list_by_author(
        uow, actor, user_id, query.page_request, query.sort
    )
    return JsonResponse(PostPage(result.items, result.pagination()))


@tag_posts_router.get(
    "/{slug}/posts",
    response_model=PostPage,
    responses=errors(401, 404),
    operation_id="listTagPosts",
    openapi_extra=documented(SortedPostsQuery),
)
async def list_tag_posts(
    slug: Slug, query: SortedPostsParams, actor: ActorDep, services: ServicesDep, uow: UnitDep
) -> Response:
    result = await services.posts.list_by_tag(uow, actor, slug, query.page_request, query.sort)
    return JsonResponse(PostPage(result.items, result.pagination()))
