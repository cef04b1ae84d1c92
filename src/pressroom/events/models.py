"""What an event is: a type from a fixed list and the data an anonymous reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    POST_CREATED = "post.created"
    POST_UPDATED = "post.updated"
    POST_PUBLISHED = "post.published"
    POST_UNPUBLISHED = "post.unpublished"
    POST_DELETED = "post.deleted"
    TAG_UPDATED = "tag.updated"
    TAG_DELETED = "tag.deleted"
    # Ours, named like the others (resource.verb): an endpoint was switched off by the server
    # (410 Gone, or five days of failed deliveries), so operators hear of it from their hooks.
    WEBHOOK_DISABLED = "webhook.disabled"


@dataclass(frozen=True, slots=True)
class Event:
    """An event about to be recorded; `data` is already what receivers may see."""

    type: EventType
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    id: int
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]
