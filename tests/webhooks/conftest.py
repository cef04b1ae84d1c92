"""Webhook tests: a real receiver on loopback (allowed by WEBHOOK_ALLOW_PRIVATE_TARGETS), a
clock the tests move instead of waiting out the retry schedule, and a real job worker (the one
`pressroom worker` runs) that makes the deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from pressroom.db.tables import events
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.services import Services
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


class MailNowhere:
    """Sign-ups queue verification mail beside the deliveries; these tests do not read it."""

    async def send(self, message: EmailMessage) -> None:
        return None


@pytest.fixture
def clock(services: Services) -> MovableClock:
    moved = MovableClock()
    services.deliverer.clock = moved
    return moved


def job_worker(services: Services, clock: MovableClock, **options: Any) -> Worker:
    return Worker(services, sender=MailNowhere(), clock=clock, poll_seconds=0.05, **options)


@pytest.fixture
def worker(services: Services, clock: MovableClock) -> Worker:
    return job_worker(services, clock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as started:
        yield started


async def subscribe(admin: Person, url: str, *event_types: str) -> dict[str, Any]:
    reply = await admin.post("/webhooks", json={"url": url, "events": list(event_types)})
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def recorded_events(services: Services) -> list[tuple[str, dict[str, Any]]]:
    async with services.db.read() as conn:
        rows = await conn.execute(select(events.c.type, events.c.data).order_by(events.c.id))
        return [(r.type, orjson.loads(r.data)) for r in rows]
