"""Records events on the write transaction of the change they describe, and hands each to its
subscribers (webhook endpoints) on that same transaction: a rolled-back change emits nothing,
a committed one is never lost (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pressroom.db.connection import Connection
from pressroom.events.models import Event, RecordedEvent
from pressroom.events.repository import EventRepository


class Subscribers(Protocol):
    """Who hears of an event. Webhooks fill it in at the composition root (services.py), so
    events, which every domain records, import no webhook code."""

    async def event_recorded(self, conn: Connection, event: RecordedEvent) -> None: ...


class EventRecorder:
    def __init__(self, subscribers: Subscribers) -> None:
        self.subscribers = subscribers

    async def record(self, conn: Connection, event: Event, now: datetime) -> RecordedEvent:
        """`conn` must be the change's own write transaction."""
        recorded = await EventRepository(conn).insert(event, now)
        await self.subscribers.event_recorded(conn, recorded)
        return recorded
