"""Request bodies and response shapes of webhook endpoints and their delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, Strict, StringConstraints, field_validator

from pressroom.events.models import EventType
from pressroom.kit.outbound_http import MAX_URL_CHARS
from pressroom.kit.output import Pagination, Timestamp, output
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


@output
@dataclass(slots=True)
class WebhookOut:
    id: int
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    # Why the server disabled it: "gone" (410), "failing" (5 days of failures), "manual".
    disabled_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, endpoint: EndpointRecord) -> WebhookOut:
        return cls(**_webhook_fields(endpoint))


@output
@dataclass(slots=True)
class WebhookWithSecretOut(WebhookOut):
    """Only the answers of creation and rotation carry the signing secret."""

    secret: str

    @classmethod
    def created(cls, made: CreatedEndpoint) -> WebhookWithSecretOut:
        return cls(**_webhook_fields(made.endpoint), secret=made.secret)


def _webhook_fields(endpoint: EndpointRecord) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": [t.value for t in endpoint.events],
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


@output
@dataclass(slots=True)
class WebhookPage:
    data: list[WebhookOut]
    pagination: Pagination

    @classmethod
    def of(cls, page: Page[EndpointRecord]) -> WebhookPage:
        return cls([WebhookOut.of(e) for e in page.items], page.pagination())


@output
@dataclass(slots=True)
class DeliveryOut:
    id: int
    event_id: int
    event_type: str
    attempt: int
    status: str
    response_status: int | None
    duration_ms: int | None
    error: str | None
    created_at: Timestamp
    next_attempt_at: Timestamp | None

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> DeliveryOut:
        return cls(
            delivery.id,
            delivery.event_id,
            delivery.event_type,
            delivery.attempt,
            delivery.status.value,
            delivery.response_status,
            delivery.duration_ms,
            delivery.error,
            delivery.created_at,
            delivery.next_attempt_at,
        )


@output
@dataclass(slots=True)
class DeliveryPage:
    data: list[DeliveryOut]
    pagination: Pagination

    @classmethod
    def of(cls, page: Page[DeliveryRecord]) -> DeliveryPage:
        return cls([DeliveryOut.of(d) for d in page.items], page.pagination())
