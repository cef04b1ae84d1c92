"""Rules about webhook endpoints: only users:manage holders see or change them; URLs must pass
the target check; the secret is shown once; a delivery can be tried again by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pressroom.auth.actor import Actor
from pressroom.auth.permissions import Permission
from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.events.models import RecordedEvent
from pressroom.kit.clock import utcnow
from pressroom.kit.errors import Conflict, NotFound, ValidationFailed
from pressroom.kit.outbound_http import TargetGuard, TargetRefused
from pressroom.kit.pagination import Page, PageRequest
from pressroom.webhooks.models import (
    CreatedEndpoint,
    DeliveryFilter,
    DeliveryRecord,
    DisabledReason,
    EndpointRecord,
)
from pressroom.webhooks.queue import DeliveryJobs
from pressroom.webhooks.repository import WebhookRepository, events_json
from pressroom.webhooks.schemas import CreateWebhookRequest, UpdateWebhookRequest
from pressroom.webhooks.signing import new_secret

WEBHOOK_NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Delivery not found"
# After a rotation the old secret signs beside the new one, so receivers can switch unhurried.
PREVIOUS_SECRET_TTL = timedelta(hours=24)


class DeliveryFanout:
    """Turns each recorded event into one pending delivery per subscribed endpoint, on the
    event's own transaction (`events.recorder.Subscribers`)."""

    def __init__(self, queue: DeliveryJobs) -> None:
        self.queue = queue

    async def event_recorded(self, conn: Connection, event: RecordedEvent) -> None:
        repo = WebhookRepository(conn)
        endpoint_ids = await repo.subscribed(event.type)
        for delivery_id in await repo.add_deliveries(endpoint_ids, event.id, 1, event.occurred_at):
            await self.queue.schedule(conn, delivery_id, event.occurred_at)


class WebhookService:
    def __init__(self, guard: TargetGuard, queue: DeliveryJobs) -> None:
        self.guard = guard
        self.queue = queue

    async def create(
        self, uow: UnitOfWork, actor: Actor, data: CreateWebhookRequest
    ) -> CreatedEndpoint:
        actor.require(Permission.USERS_MANAGE)
        await self._check_url(data.url)
        secret = new_secret()
        now = utcnow()
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            endpoint_id = await repo.create_endpoint(
                url=data.url,
                description=data.description,
                event_types=data.events,
                secret=secret,
                now=now,
            )
            endpoint = _found(await repo.get_endpoint(endpoint_id))
        return CreatedEndpoint(endpoint, secret)

    async def list_endpoints(
        self, uow: UnitOfWork, actor: Actor, page: PageRequest
    ) -> Page[EndpointRecord]:
        actor.require(Permission.USERS_MANAGE)
        async with uow.read() as conn:
            items, total = await WebhookRepository(conn).page_endpoints(page)
        return Page(items, page, total)

    async def get(self, uow: UnitOfWork, actor: Actor, endpoint_id: int) -> EndpointRecord:
        actor.require(Permission.USERS_MANAGE)
        async with uow.read() as conn:
            return _found(await WebhookRepository(conn).get_endpoint(endpoint_id))

    async def update(
        self, uow: UnitOfWork, actor: Actor, endpoint_id: int, changes: UpdateWebhookRequest
    ) -> EndpointRecord:
        actor.require(Permission.USERS_MANAGE)
        given = changes.given()
        if "url" in given and changes.url is not None:
            await self._check_url(changes.url)
        values: dict[str, Any] = {}
        if "url" in given:
            values["url"] = changes.url
        if "description" in given:
            values["description"] = changes.description
        if "events" in given and changes.events is not None:
            values["events"] = events_json(changes.events)
        if "enabled" in given:
            values["enabled"] = changes.enabled
            # Enabled again by hand: its failures so far no longer count toward disabling it.
            values["disabled_reason"] = None if changes.enabled else DisabledReason.MANUAL.value
            values["failing_since"] = None
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            current = _found(await repo.get_endpoint(endpoint_id, lock=True))
            if values.get("enabled") is False and not current.enabled:
                # Already off: keep the reason the server gave ("gone", "failing").
                values.pop("disabled_reason")
            values["updated_at"] = utcnow()
            await repo.update_endpoint(endpoint_id, values)
            return _found(await repo.get_endpoint(endpoint_id))

    async def delete(self, uow: UnitOfWork, actor: Actor, endpoint_id: int) -> None:
        actor.require(Permission.USERS_MANAGE)
        async with uow.write() as conn:
            if not await WebhookRepository(conn).delete_endpoint(endpoint_id):
                raise NotFound(WEBHOOK_NOT_FOUND)

    async def rotate_secret(
        self, uow: UnitOfWork, actor: Actor, endpoint_id: int
    ) -> CreatedEndpoint:
        actor.require(Permission.USERS_MANAGE)
        secret = new_secret()
        now = utcnow()
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            if not await repo.rotate_secret(endpoint_id, secret, now, now + PREVIOUS_SECRET_TTL):
                raise NotFound(WEBHOOK_NOT_FOUND)
            endpoint = _found(await repo.get_endpoint(endpoint_id))
        return CreatedEndpoint(endpoint, secret)

    async def deliveries(
        self,
        uow: UnitOfWork,
        actor: Actor,
        endpoint_id: int,
        where: DeliveryFilter,
        page: PageRequest,
    ) -> Page[DeliveryRecord]:
        actor.require(Permission.USERS_MANAGE)
        async with uow.read() as conn:
            repo = WebhookRepository(conn)
            items, total = await repo.page_deliveries(endpoint_id, where, page)
            # Only an empty page needs telling "no deliveries" apart from "no such endpoint".
            if not items and await repo.get_endpoint(endpoint_id) is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
        return Page(items, page, total)

    async def retry(
        self, uow: UnitOfWork, actor: Actor, endpoint_id: int, delivery_id: int
    ) -> DeliveryRecord:
        """A new attempt of that delivery's event to that endpoint, due now, whatever became of
        the earlier ones (a receiver that lost an event asks for it again)."""
        actor.require(Permission.USERS_MANAGE)
        now = utcnow()
        async with uow.write() as conn:
            repo = WebhookRepository(conn)
            endpoint = _found(await repo.get_endpoint(endpoint_id, lock=True))
            delivery = await repo.get_delivery(delivery_id)
            if delivery is None or delivery.endpoint_id != endpoint_id:
                raise NotFound(DELIVERY_NOT_FOUND)
            if not endpoint.enabled:
                raise Conflict("The webhook is disabled; enable it first")
            attempt, pending = await repo.latest_attempt(endpoint_id, delivery.event_id)
            if pending:
                raise Conflict("An attempt to deliver this event is already pending")
            (new_id,) = await repo.add_deliveries(
                [endpoint_id], delivery.event_id, attempt + 1, now
            )
            await self.queue.schedule(conn, new_id, now)
            created = await repo.get_delivery(new_id)
            assert created is not None
        return created

    async def _check_url(self, url: str) -> None:
        try:
            await self.guard.check(url)
        except TargetRefused as refused:
            raise ValidationFailed.on("url", str(refused)) from None


def _found(endpoint: EndpointRecord | None) -> EndpointRecord:
    if endpoint is None:
        raise NotFound(WEBHOOK_NOT_FOUND)
    return endpoint
