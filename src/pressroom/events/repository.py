"""All SQL about events: one insert, on the connection of the change it follows."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import events
from pressroom.events.models import Event, RecordedEvent


class EventRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def insert(self, event: Event, now: datetime) -> RecordedEvent:
        event_id = await self.conn.scalar(
            insert(events)
            .values(type=event.type.value, occurred_at=now, data=orjson.dumps(event.data).decode())
            .returning(events.c.id)
        )
        assert event_id is not None
        return RecordedEvent(int(event_id), event.type, now, event.data)
