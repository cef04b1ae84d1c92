"""All SQL about events: one insert, on the connection of the change it follows."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import events
from pressroom.events.models import Event, EventType, RecordedEvent


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

    async def get(self, event_id: int) -> RecordedEvent | None:
        row = (
            await self.conn.execute(
                select(events.c.id, events.c.type, events.c.occurred_at, events.c.data).where(
                    events.c.id == event_id
                )
            )
        ).first()
        if row is None:
            return None
        return RecordedEvent(row.id, EventType(row.type), row.occurred_at, orjson.loads(row.data))

    async def types_since(self, after_id: int) -> list[tuple[int, str]]:
        """(id, type) of the events recorded after `after_id`, oldest first."""
        rows = await self.conn.execute(
            select(events.c.id, events.c.type).where(events.c.id > after_id).order_by(events.c.id)
        )
        return [(r.id, r.type) for r in rows]
