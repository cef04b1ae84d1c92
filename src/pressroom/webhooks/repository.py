"""All SQL about webhook endpoints and their deliveries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.tables import events, webhook_deliveries, webhook_endpoints
from pressroom.events.models import EventType
from pressroom.kit.clock import rfc3339
from pressroom.kit.pagination import PageRequest
from pressroom.webhooks.models import (
    ClaimedDelivery,
    DeliveryFilter,
    DeliveryRecord,
    DeliveryStatus,
    EndpointRecord,
    SigningSecrets,
)

ERROR_MAX_CHARS = 500
_e = webhook_endpoints
_d = webhook_deliveries
_ENDPOINT_COLUMNS = (
    _e.c.id,
    _e.c.url,
    _e.c.description,
    _e.c.events,
    _e.c.enabled,
    _e.c.disabled_reason,
    _e.c.created_at,
    _e.c.updated_at,
)
_DELIVERY_COLUMNS = (
    _d.c.id,
    _d.c.endpoint_id,
    _d.c.event_id,
    events.c.type,
    _d.c.attempt,
    _d.c.status,
    _d.c.response_status,
    _d.c.duration_ms,
    _d.c.error,
    _d.c.created_at,
    _d.c.next_attempt_at,
)


def _endpoint(row: Row[*tuple[Any, ...]]) -> EndpointRecord:
    return EndpointRecord(
        row.id,
        row.url,
        row.description,
        tuple(EventType(t) for t in orjson.loads(row.events)),
        row.enabled,
        row.disabled_reason,
        row.created_at,
        row.updated_at,
    )


def _delivery(row: Row[*tuple[Any, ...]]) -> DeliveryRecord:
    return DeliveryRecord(
        row.id,
        row.endpoint_id,
        row.event_id,
        row.type,
        row.attempt,
        DeliveryStatus(row.status),
        row.response_status,
        row.duration_ms,
        row.error,
        row.created_at,
        row.next_attempt_at,
    )


def events_json(types: Sequence[EventType]) -> str:
    return orjson.dumps([t.value for t in types]).decode()


class WebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # Endpoints

    async def create_endpoint(
        self,
        *,
        url: str,
        description: str | None,
        event_types: Sequence[EventType],
        secret: str,
        now: datetime,
    ) -> int:
        endpoint_id = await self.conn.scalar(
            insert(_e)
            .values(
                url=url,
                description=description,
                events=events_json(event_types),
                secret=secret,
                enabled=True,
                created_at=now,
                updated_at=now,
            )
            .returning(_e.c.id)
        )
        assert endpoint_id is not None
        return int(endpoint_id)

    async def get_endpoint(self, endpoint_id: int, *, lock: bool = False) -> EndpointRecord | None:
        statement = select(*_ENDPOINT_COLUMNS).where(_e.c.id == endpoint_id)
        if lock and self.conn.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = (await self.conn.execute(statement)).first()
        return _endpoint(row) if row is not None else None

    async def page_endpoints(self, page: PageRequest) -> tuple[list[EndpointRecord], int]:
        rows = await self.conn.execute(
            select(*_ENDPOINT_COLUMNS).order_by(_e.c.id).limit(page.limit).offset(page.offset)
        )
        total = await self.conn.scalar(select(func.count()).select_from(_e))
        return [_endpoint(r) for r in rows], int(total or 0)

    async def update_endpoint(self, endpoint_id: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(update(_e).where(_e.c.id == endpoint_id).values(**values))
        return result.rowcount == 1

    async def delete_endpoint(self, endpoint_id: int) -> bool:
        result = await self.conn.execute(delete(_e).where(_e.c.id == endpoint_id))
        return result.rowcount == 1

    async def rotate_secret(
        self, endpoint_id: int, new_secret: str, now: datetime, old_until: datetime
    ) -> bool:
        result = await self.conn.execute(
            update(_e)
            .where(_e.c.id == endpoint_id)
            .values(
                previous_secret=_e.c.secret,
                previous_secret_expires_at=old_until,
                secret=new_secret,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    async def disable(self, endpoint_id: int, reason: str, now: datetime) -> bool:
        """False when it was already disabled (so the caller tells of it once)."""
        result = await self.conn.execute(
            update(_e)
            .where(_e.c.id == endpoint_id, _e.c.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason, updated_at=now)
        )
        return result.rowcount == 1

    async def set_failing_since(self, endpoint_id: int, since: datetime | None) -> None:
        await self.conn.execute(
            update(_e).where(_e.c.id == endpoint_id).values(failing_since=since)
        )

    async def subscribed(self, event_type: EventType) -> list[int]:
        """Enabled endpoints that asked for `event_type`. Endpoints are few (an operator's
        list), so the subscription is matched here rather than in SQL over a JSON column."""
        rows = await self.conn.execute(
            select(_e.c.id, _e.c.events).where(_e.c.enabled.is_(True)).order_by(_e.c.id)
        )
        return [r.id for r in rows if event_type.value in orjson.loads(r.events)]

    # Deliveries

    async def add_deliveries(
        self,
        endpoint_ids: Sequence[int],
        event_id: int,
        attempt: int,
        now: datetime,
        due: datetime | None = None,
    ) -> list[int]:
        if not endpoint_ids:
            return []
        rows = await self.conn.execute(
            insert(_d).returning(_d.c.id),
            [
                {
                    "endpoint_id": endpoint_id,
                    "event_id": event_id,
                    "attempt": attempt,
                    "status": DeliveryStatus.PENDING.value,
                    "created_at": now,
                    "next_attempt_at": due or now,
                }
                for endpoint_id in endpoint_ids
            ],
        )
        return [r.id for r in rows]

    async def page_deliveries(
        self, endpoint_id: int, where: DeliveryFilter, page: PageRequest
    ) -> tuple[list[DeliveryRecord], int]:
        conditions = [_d.c.endpoint_id == endpoint_id]
        if where.status is not None:
            conditions.append(_d.c.status == where.status.value)
        if where.event_id is not None:
            conditions.append(_d.c.event_id == where.event_id)
        if where.event_type is not None:
            conditions.append(events.c.type == where.event_type)
        joined = _d.join(events, events.c.id == _d.c.event_id)
        rows = await self.conn.execute(
            select(*_DELIVERY_COLUMNS)
            .select_from(joined)
            .where(*conditions)
            .order_by(_d.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await self.conn.scalar(select(func.count()).select_from(joined).where(*conditions))
        return [_delivery(r) for r in rows], int(total or 0)

    async def get_delivery(self, delivery_id: int) -> DeliveryRecord | None:
        row = (
            await self.conn.execute(
                select(*_DELIVERY_COLUMNS)
                .select_from(_d.join(events, events.c.id == _d.c.event_id))
                .where(_d.c.id == delivery_id)
            )
        ).first()
        return _delivery(row) if row is not None else None

    async def latest_attempt(self, endpoint_id: int, event_id: int) -> tuple[int, bool]:
        """The highest attempt number of this event to this endpoint, and whether one is pending."""
        row = (
            await self.conn.execute(
                select(
                    func.max(_d.c.attempt),
                    func.count().filter(_d.c.status == DeliveryStatus.PENDING.value),
                ).where(_d.c.endpoint_id == endpoint_id, _d.c.event_id == event_id)
            )
        ).one()
        return int(row[0] or 0), bool(row[1])

    async def pending_attempt(self, delivery_id: int) -> ClaimedDelivery | None:
        """A pending attempt with what sending it takes; None when it is not pending (made
        already, or gone with its endpoint). Only the worker holding its job asks."""
        row = (
            await self.conn.execute(
                select(
                    _d.c.id,
                    _d.c.attempt,
                    _d.c.endpoint_id,
                    _e.c.url,
                    _e.c.enabled,
                    _e.c.secret,
                    _e.c.previous_secret,
                    _e.c.previous_secret_expires_at,
                    _e.c.failing_since,
                    events.c.id.label("event_id"),
                    events.c.type,
                    events.c.occurred_at,
                    events.c.data,
                )
                .select_from(
                    _d.join(_e, _e.c.id == _d.c.endpoint_id).join(
                        events, events.c.id == _d.c.event_id
                    )
                )
                .where(_d.c.id == delivery_id, _d.c.status == DeliveryStatus.PENDING.value)
            )
        ).first()
        if row is None:
            return None
        body = orjson.dumps(
            {
                "id": row.event_id,
                "type": row.type,
                "occurredAt": rfc3339(row.occurred_at),
                "data": orjson.Fragment(row.data),
            }
        )
        return ClaimedDelivery(
            id=row.id,
            attempt=row.attempt,
            endpoint_id=row.endpoint_id,
            url=row.url,
            enabled=row.enabled,
            secrets=SigningSecrets(row.secret, row.previous_secret, row.previous_secret_expires_at),
            failing_since=row.failing_since,
            event_id=row.event_id,
            body=body,
        )

    async def earlier_first_attempt_pending(self, endpoint_id: int, event_id: int) -> bool:
        """Whether an older event still waits for its first attempt to this endpoint: events
        go out in the order they occurred, except past one that is waiting for a retry."""
        found = await self.conn.scalar(
            select(_d.c.id)
            .where(
                _d.c.endpoint_id == endpoint_id,
                _d.c.event_id < event_id,
                _d.c.status == DeliveryStatus.PENDING.value,
                _d.c.attempt == 1,
            )
            .limit(1)
        )
        return found is not None

    async def lock_endpoint(self, endpoint_id: int) -> None:
        """Serialises, per endpoint, the transactions that park an event behind an older one
        and those that wake it (SQLite's writes are serial already)."""
        if self.conn.dialect.name == "postgresql":
            await self.conn.execute(select(_e.c.id).where(_e.c.id == endpoint_id).with_for_update())

    async def park(self, claimed: ClaimedDelivery) -> bool:
        """A pending first attempt with no due time (and no job): it waits to be woken."""
        return await self._settle(claimed, next_attempt_at=None)

    async def next_parked(self, endpoint_id: int, after_event_id: int) -> int | None:
        found = await self.conn.scalar(
            select(_d.c.id)
            .where(
                _d.c.endpoint_id == endpoint_id,
                _d.c.event_id > after_event_id,
                _d.c.status == DeliveryStatus.PENDING.value,
                _d.c.attempt == 1,
                _d.c.next_attempt_at.is_(None),
            )
            .order_by(_d.c.event_id)
            .limit(1)
        )
        return int(found) if found is not None else None

    async def unpark(self, delivery_id: int, due: datetime) -> None:
        await self.conn.execute(
            update(_d)
            .where(_d.c.id == delivery_id, _d.c.next_attempt_at.is_(None))
            .values(next_attempt_at=due)
        )

    async def settle(
        self,
        claimed: ClaimedDelivery,
        *,
        status: DeliveryStatus,
        response_status: int | None,
        duration_ms: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record how the attempt went (the caller holds its job, which fences it)."""
        return await self._settle(
            claimed,
            status=status.value,
            response_status=response_status,
            duration_ms=duration_ms,
            error=error[:ERROR_MAX_CHARS] if error else None,
            next_attempt_at=next_attempt_at,
        )

    async def _settle(self, claimed: ClaimedDelivery, **values: Any) -> bool:
        result = await self.conn.execute(
            update(_d)
            .where(_d.c.id == claimed.id, _d.c.status == DeliveryStatus.PENDING.value)
            .values(**values)
        )
        return result.rowcount == 1
