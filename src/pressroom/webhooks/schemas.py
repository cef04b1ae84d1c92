"""Request bodies and response shapes of webhook endpoints and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict, StringConstraints, field_validator

from pressroom.events.models import EventType
from pressroom.kit.clock import rfc3339
from pressroom.kit.outbound_http import MAX_URL_CHARS
from pressroom.kit.output import Pagination, json_data
from pressroom.kit.pagination import Page
from pressroom.kit.validation import SINGLE_LINE, InputModel
from pressroom.webhooks.models import CreatedEndpoint, DeliveryRecord, EndpointRecord

MAX_DESCRIPTION_CHARS = 500
Description = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION_CHARS), SINGLE_LINE
]
# Strict models take enum members only from Python objects; FastAPI hands bodies over decoded,
# so "post.created" needs lax validation here (still exactly one of the values).
EventTypes = Annotated[
    list[Annotated[EventType, Strict(False)]], Field(min_length=1, max_length=len(EventType))
]
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)]


def _distinct(types: list[EventType] | None) -> list[EventType] | None:
    if types is not None and len(set(types)) != len(types):
        raise ValueError("events must not repeat")
    return types


class CreateWebhookRequest(InputModel):
    url: Url
    events: EventTypes
    description: Description | None = None

    _check_events = field_validator("events")(_distinct)


class UpdateWebhookRequest(InputModel):
    nullable = frozenset({"description"})

    url: Url | None = None
    events: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None

    _check_events = field_validator("events")(_distinct)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    # Why the server disabled it: "gone" (410), "failing" (5 days of failures), "manual".
    disabledReason: str | None  # noqa: N815
    createdAt: datetime  # noqa: N815
    updatedAt: datetime  # noqa: N815


class WebhookWithSecretOut(WebhookOut):
    """Only the answers of creation and rotation carry the signing secret."""

    secret: str


class WebhookPage(BaseModel):
    data: list[WebhookOut]
    pagination: Pagination


class DeliveryOut(BaseModel):
    id: int
    eventId: int  # noqa: N815
    eventType: str  # noqa: N815
    attempt: int
    status: str
    responseStatus: int | None  # noqa: N815
    durationMs: int | None  # noqa: N815
    error: str | None
    createdAt: datetime  # noqa: N815
    nextAttemptAt: datetime | None  # noqa: N815


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    pagination: Pagination


def webhook_json(endpoint: EndpointRecord) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": [t.value for t in endpoint.events],
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabledReason": endpoint.disabled_reason,
        "createdAt": rfc3339(endpoint.created_at),
        "updatedAt": rfc3339(endpoint.updated_at),
    }


def webhook_with_secret_json(created: CreatedEndpoint) -> dict[str, Any]:
    return {**webhook_json(created.endpoint), "secret": created.secret}


def delivery_json(delivery: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "eventId": delivery.event_id,
        "eventType": delivery.event_type,
        "attempt": delivery.attempt,
        "status": delivery.status.value,
        "responseStatus": delivery.response_status,
        "durationMs": delivery.duration_ms,
        "error": delivery.error,
        "createdAt": rfc3339(delivery.created_at),
        "nextAttemptAt": rfc3339(delivery.next_attempt_at),
    }


def webhook_page_json(page: Page[EndpointRecord]) -> dict[str, Any]:
    return _page_json([webhook_json(e) for e in page.items], page)


def delivery_page_json(page: Page[DeliveryRecord]) -> dict[str, Any]:
    return _page_json([delivery_json(d) for d in page.items], page)


def _page_json(items: list[dict[str, Any]], page: Page[Any]) -> dict[str, Any]:
    return {"data": items, "pagination": json_data(page.pagination())}
