"""Webhook tests: a real receiver on loopback (allowed by WEBHOOK_ALLOW_PRIVATE_TARGETS), a
clock the tests move instead of waiting out the retry schedule, and the in-process sender."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from pressroom.db.tables import events
from pressroom.db.units import unit_of_work
from pressroom.kit.clock import utcnow
from pressroom.services import Services
from pressroom.webhooks.delivery import Outcome
from tests.conftest import Person
from tests.webhooks.receiver import Receiver, running


class MovableClock:
    """The real time, moved forward by what the test advanced it (events are recorded at the
    real time, so a clock that stood still would find them not yet due)."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.ahead

    def advance(self, delta: timedelta) -> None:
        self.ahead += delta


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhook_allow_private_targets": True}


@pytest.fixture
def clock(services: Services) -> MovableClock:
    moved = MovableClock()
    services.deliverer.clock = moved
    services.delivery_poller.clock = moved
    return moved


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as started:
        yield started


async def subscribe(admin: Person, url: str, *event_types: str) -> dict[str, Any]:
    reply = await admin.post("/webhooks", json={"url": url, "events": list(event_types)})
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def attempt(services: Services, delivery_id: int) -> Outcome:
    """One attempt, in a unit of work of its own, as the worker runs it."""
    async with unit_of_work(services.db) as uow:
        return await services.deliverer.attempt(uow, delivery_id)


async def deliver_due(services: Services) -> int:
    """Runs every attempt due now, as the worker would, until none is left; how many ran."""
    total = 0
    for _ in range(100):
        looked_at = await services.delivery_poller.run_due()
        if not looked_at:
            return total
        total += looked_at
    raise AssertionError("deliveries kept coming due")


async def recorded_events(services: Services) -> list[tuple[str, dict[str, Any]]]:
    async with services.db.read() as conn:
        rows = await conn.execute(select(events.c.type, events.c.data).order_by(events.c.id))
        return [(r.type, orjson.loads(r.data)) for r in rows]
