"""REST door to webhook endpoints and their delivery log: /webhooks (users:manage holders)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Response
from pydantic import Field, field_validator

from pressroom.api.dependencies import ServicesDep, SignedInActor, UnitDep
from pressroom.events.models import EventType
from pressroom.kit.bounds import MAX_ID
from pressroom.kit.ids import IdPath
from pressroom.kit.openapi import created, errors
from pressroom.kit.query import ListQuery, documented, query_string
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import API_PREFIX, api_router
from pressroom.webhooks.models import DeliveryFilter, DeliveryStatus
from pressroom.webhooks.schemas import (
    CreateWebhookRequest,
    DeliveryOut,
    DeliveryPage,
    UpdateWebhookRequest,
    WebhookOut,
    WebhookPage,
    WebhookWithSecretOut,
)

router = api_router("/webhooks", tags=["webhooks"])
# What a webhook's answers say is for its managers; no shared cache may keep it.
PRIVATE = {"Cache-Control": "no-store"}


@router.post(
    "",
    status_code=201,
    response_model=WebhookWithSecretOut,
    responses=errors(401, 403) | created("/api/v1/webhooks/{webhook_id}"),
    operation_id="createWebhook",
)
async def create_webhook(
    body: CreateWebhookRequest, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    made = await services.webhooks.create(uow, actor, body)
    return JsonResponse(
        WebhookWithSecretOut.created(made),
        status_code=201,
        headers={**PRIVATE, "Location": f"{API_PREFIX}/webhooks/{made.endpoint.id}"},
    )


@router.get(
    "",
    response_model=WebhookPage,
    responses=errors(401, 403),
    operation_id="listWebhooks",
    openapi_extra=documented(ListQuery),
)
async def list_webhooks(
    query: Annotated[ListQuery, query_string(ListQuery)],
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    result = await services.webhooks.list_endpoints(uow, actor, query.page_request)
    return JsonResponse(WebhookPage.of(result), headers=PRIVATE)


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    responses=errors(401, 403, 404),
    operation_id="getWebhook",
)
async def get_webhook(
    webhook_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    return JsonResponse(
        WebhookOut.of(await services.webhooks.get(uow, actor, webhook_id)), headers=PRIVATE
    )


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    responses=errors(401, 403, 404),
    operation_id="updateWebhook",
)
async def update_webhook(
    webhook_id: IdPath,
    body: UpdateWebhookRequest,
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    endpoint = await services.webhooks.update(uow, actor, webhook_id, body)
    return JsonResponse(WebhookOut.of(endpoint), headers=PRIVATE)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=errors(401, 403, 404),
    operation_id="deleteWebhook",
)
async def delete_webhook(
    webhook_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.webhooks.delete(uow, actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecretOut,
    responses=errors(401, 403, 404),
    operation_id="rotateWebhookSecret",
)
async def rotate_secret(
    webhook_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    rotated = await services.webhooks.rotate_secret(uow, actor, webhook_id)
    return JsonResponse(WebhookWithSecretOut.created(rotated), headers=PRIVATE)


def _one_of(values: list[str]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and value not in values:
            raise ValueError(f"must be one of {', '.join(values)}")
        return value

    return check


class DeliveryListQuery(ListQuery):
    # Plain strings listed as enums: an enum type would put a `$ref` into the query parameter's
    # schema, which the parameters copied into the OpenAPI document cannot resolve.
    status: str | None = Field(
        None, max_length=16, json_schema_extra={"enum": [s.value for s in DeliveryStatus]}
    )
    event_type: str | None = Field(
        None, max_length=64, json_schema_extra={"enum": [t.value for t in EventType]}
    )
    event_id: int | None = Field(None, ge=1, le=MAX_ID)

    _check_status = field_validator("status")(_one_of([s.value for s in DeliveryStatus]))
    _check_type = field_validator("event_type")(_one_of([t.value for t in EventType]))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=errors(401, 403, 404),
    operation_id="listWebhookDeliveries",
    openapi_extra=documented(DeliveryListQuery),
)
async def list_deliveries(
    webhook_id: IdPath,
    query: Annotated[DeliveryListQuery, query_string(DeliveryListQuery)],
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    where = DeliveryFilter(
        status=DeliveryStatus(query.status) if query.status else None,
        event_type=query.event_type,
        event_id=query.event_id,
    )
    result = await services.webhooks.deliveries(uow, actor, webhook_id, where, query.page_request)
    return JsonResponse(DeliveryPage.of(result), headers=PRIVATE)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=DeliveryOut,
    responses=errors(401, 403, 404, 409),
    operation_id="retryWebhookDelivery",
)
async def retry_delivery(
    webhook_id: IdPath,
    delivery_id: IdPath,
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    retried = await services.webhooks.retry(uow, actor, webhook_id, delivery_id)
    return JsonResponse(DeliveryOut.of(retried), status_code=202, headers=PRIVATE)
