"""REST door to tags: /tags, /tags/{slug} (its posts are listed by posts/endpoints.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response
from pydantic import Field

from pressroom.api.dependencies import ActorDep, ServicesDep, SignedInActor, UnitDep
from pressroom.kit.bounds import SLUG_MAX_CHARS
from pressroom.kit.openapi import errors
from pressroom.kit.query import ListQuery, documented, query_string
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import api_router
from pressroom.tags.models import TagRecord
from pressroom.tags.schemas import TagPage, UpdateTagRequest

router = api_router("/tags", tags=["tags"])
Slug = Annotated[str, Path(max_length=SLUG_MAX_CHARS)]


class TagListQuery(ListQuery):
    sort: str | None = Field(None, max_length=100, description="name, post_count")


@router.get(
    "",
    response_model=TagPage,
    responses=errors(401),
    operation_id="listTags",
    openapi_extra=documented(TagListQuery),
)
async def list_tags(
    query: Annotated[TagListQuery, query_string(TagListQuery)],
    _actor: ActorDep,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    result = await services.tags.list_tags(uow, query.page_request, query.sort)
    return JsonResponse(TagPage(result.items, result.pagination()))


@router.get("/{slug}", response_model=TagRecord, responses=errors(401, 404), operation_id="getTag")
async def get_tag(slug: Slug, actor: ActorDep, services: ServicesDep, uow: UnitDep) -> Response:
    return JsonResponse(await services.tags.get(uow, actor, slug))


@router.patch(
    "/{slug}",
    response_model=TagRecord,
    responses=errors(401, 403, 404, 409),
    operation_id="updateTag",
)
async def update_tag(
    slug: Slug, body: UpdateTagRequest, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    return JsonResponse(await services.tags.update(uow, actor, slug, body))


@router.delete(
    "/{slug}", status_code=204, responses=errors(401, 403, 404), operation_id="deleteTag"
)
async def delete_tag(
    slug: Slug, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.tags.delete(uow, actor, slug)
    return Response(status_code=204)
