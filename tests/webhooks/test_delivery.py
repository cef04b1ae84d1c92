"""Deliveries to a real receiver on loopback: signed as Standard Webhooks, retried with the same
`webhook-id`, logged attempt by attempt, disabled on 410, signed twice during a rotation."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from pressroom.db.tables import webhook_deliveries
from pressroom.services import Services
from pressroom.webhooks.delivery import HOLD, Outcome
from pressroom.webhooks.repository import WebhookRepository
from tests.conftest import Person
from tests.webhooks.conftest import MovableClock, attempt, deliver_due, subscribe
from tests.webhooks.receiver import Receiver, running

POST = {"title": "Hello", "content": "World", "published": True}


async def test_signature_verifies_with_the_standard_webhooks_library(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    created = (await author.post("/posts", json=POST)).json()

    await deliver_due(services)

    (arrival,) = receiver.arrivals
    event = Webhook(hook["secret"]).verify(arrival.body, arrival.headers)
    assert event["type"] == "post.created"
    assert event["data"] == created
    assert arrival.headers["webhook-id"] == str(event["id"])
    assert arrival.headers["content-type"] == "application/json"


async def test_a_receiver_failing_twice_gets_the_same_webhook_id_three_times(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    receiver.answers = [500, 503]
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)

    await deliver_due(services)
    clock.advance(timedelta(seconds=6))  # past the first retry's 5 s (and its jitter)
    await deliver_due(services)
    clock.advance(timedelta(minutes=6))
    await deliver_due(services)

    assert len(receiver.arrivals) == 3
    assert len({a.headers["webhook-id"] for a in receiver.arrivals}) == 1
    assert len({a.body for a in receiver.arrivals}) == 1
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()
    attempts = [
        (d["attempt"], d["status"], d["responseStatus"], d["error"] is None) for d in log["data"]
    ]
    assert attempts == [
        (3, "succeeded", 204, True),
        (2, "failed", 503, False),
        (1, "failed", 500, False),
    ]
    assert all(isinstance(d["durationMs"], int) for d in log["data"])
    assert log["data"][2]["nextAttemptAt"] is not None  # when attempt 2 was due
    assert log["data"][0]["nextAttemptAt"] is None


async def test_retries_follow_the_schedule_then_fail(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    receiver.default = 500
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    await deliver_due(services)
    for wait in (5, 300, 1800, 7200, 18000, 36000):
        clock.advance(timedelta(seconds=wait * 0.85))
        assert await deliver_due(services) == 0, "a retry came before its time"
        clock.advance(timedelta(seconds=wait * 0.3))
        assert await deliver_due(services) == 1
    clock.advance(timedelta(days=2))
    assert await deliver_due(services) == 0

    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()
    assert [d["attempt"] for d in log["data"]] == [7, 6, 5, 4, 3, 2, 1]
    assert all(d["status"] == "failed" for d in log["data"])
    assert log["data"][0]["nextAttemptAt"] is None
    assert len(receiver.arrivals) == 7


async def test_410_disables_the_endpoint_at_once_and_an_event_says_so(
    services: Services, admin: Person, author: Person, clock: MovableClock
) -> None:
    with running(Receiver(default=410)) as gone, running(Receiver()) as watcher:
        hook = await subscribe(admin, gone.url, "post.created")
        await subscribe(admin, watcher.url, "webhook.disabled")
        await author.post("/posts", json=POST)
        await deliver_due(services)
        clock.advance(timedelta(days=1))
        await deliver_due(services)

        assert len(gone.arrivals) == 1
        shown = (await admin.get(f"/webhooks/{hook['id']}")).json()
        assert shown["enabled"] is False
        assert shown["disabledReason"] == "gone"
        (notice,) = watcher.arrivals
        assert orjson.loads(notice.body)["data"] == {"id": hook["id"], "reason": "gone"}

        await author.post("/posts", json=POST)  # a disabled endpoint is sent nothing more
        await deliver_due(services)
        assert len(gone.arrivals) == 1
    metrics = (await admin.http.get("http://testserver/metrics")).text
    assert 'pressroom_webhook_endpoints_disabled_total{reason="gone"} 1.0' in metrics
    assert 'pressroom_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
    assert 'pressroom_webhook_deliveries_total{outcome="succeeded"} 1.0' in metrics
    assert "pressroom_webhook_delivery_duration_seconds_count 2.0" in metrics


async def test_an_endpoint_failing_for_five_days_is_disabled(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    receiver.default = 500
    hook = await subscribe(admin, receiver.url, "post.created")
    for _day in range(6):
        await author.post("/posts", json=POST)
        await deliver_due(services)
        clock.advance(timedelta(days=1))
    await deliver_due(services)
    shown = (await admin.get(f"/webhooks/{hook['id']}")).json()
    assert (shown["enabled"], shown["disabledReason"]) == (False, "failing")


async def test_a_success_resets_the_five_days(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    for day in range(8):
        receiver.default = 204 if day == 4 else 500
        await author.post("/posts", json=POST)
        await deliver_due(services)
        clock.advance(timedelta(days=1))
    assert (await admin.get(f"/webhooks/{hook['id']}")).json()["enabled"] is True


async def test_rotation_signs_with_both_secrets_for_a_day(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    rotated = (await admin.post(f"/webhooks/{hook['id']}/rotate-secret")).json()
    assert rotated["secret"] != hook["secret"]
    assert rotated["secret"].startswith("whsec_")

    await author.post("/posts", json=POST)
    await deliver_due(services)
    (during,) = receiver.arrivals
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(hook["secret"]).verify(during.body, during.headers)
    Webhook(rotated["secret"]).verify(during.body, during.headers)

    clock.advance(timedelta(hours=24, minutes=1))
    await author.post("/posts", json=POST)
    # The post's event is due at the real time it was recorded, which the moved clock passed.
    await deliver_due(services)
    after = receiver.arrivals[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated["secret"]).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(after.body, after.headers)


async def test_events_reach_an_endpoint_in_order_unless_a_retry_is_pending(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    receiver.answers = [500]
    await subscribe(admin, receiver.url, "post.created")
    first = (await author.post("/posts", json={**POST, "title": "first"})).json()
    second = (await author.post("/posts", json={**POST, "title": "second"})).json()

    # The second event waits while the first one's first attempt is pending...
    delivery_ids = await _pending_ids(services)
    assert await attempt(services, delivery_ids[1]) is Outcome.WAITING
    assert receiver.arrivals == []
    # ...not once that attempt failed and only a retry is pending.
    assert await attempt(services, delivery_ids[0]) is Outcome.RETRYING
    clock.advance(timedelta(seconds=3))
    await deliver_due(services)
    clock.advance(timedelta(seconds=10))
    await deliver_due(services)

    titles = [orjson.loads(a.body)["data"]["title"] for a in receiver.arrivals]
    assert titles == ["first", "second", "first"]
    assert {first["id"], second["id"]} == {
        orjson.loads(a.body)["data"]["id"] for a in receiver.arrivals
    }


async def test_an_attempt_is_sent_once_however_often_it_is_asked_for(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    (delivery_id,) = await _pending_ids(services)
    assert await attempt(services, delivery_id) is Outcome.SUCCEEDED
    assert await attempt(services, delivery_id) is Outcome.NOT_DUE
    assert len(receiver.arrivals) == 1


async def test_redirects_are_not_followed(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    with running(Receiver()) as elsewhere:
        receiver.default = 307
        receiver.extra_headers = {"location": elsewhere.url}
        hook = await subscribe(admin, receiver.url, "post.created")
        await author.post("/posts", json=POST)
        await deliver_due(services)
        assert elsewhere.arrivals == []
    (attempt,) = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"][-1:]
    assert attempt["attempt"] == 1
    assert (attempt["status"], attempt["responseStatus"]) == ("failed", 307)


async def test_a_retry_by_hand_sends_the_event_again(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    await deliver_due(services)
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    reply = await admin.post(f"/webhooks/{hook['id']}/deliveries/{log[0]['id']}/retry")
    assert reply.status_code == 202, reply.text
    assert (reply.json()["attempt"], reply.json()["status"]) == (2, "pending")
    again = await admin.post(f"/webhooks/{hook['id']}/deliveries/{log[0]['id']}/retry")
    assert again.status_code == 409
    await deliver_due(services)
    assert len(receiver.arrivals) == 2
    assert receiver.arrivals[0].headers["webhook-id"] == receiver.arrivals[1].headers["webhook-id"]


async def _pending_ids(services: Services) -> list[int]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(webhook_deliveries.c.id)
            .where(webhook_deliveries.c.status == "pending")
            .order_by(webhook_deliveries.c.id)
        )
        return [r.id for r in rows]


async def test_two_senders_never_send_the_same_attempt_at_once(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    receiver.gate = threading.Event()
    await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    (delivery_id,) = await _pending_ids(services)

    first = asyncio.create_task(attempt(services, delivery_id))
    await asyncio.to_thread(receiver.arrived.wait, 10)  # the first is in flight, held there
    second = await attempt(services, delivery_id)
    receiver.gate.set()

    assert second is Outcome.NOT_DUE
    assert await first is Outcome.SUCCEEDED
    assert len(receiver.arrivals) == 1


async def test_an_attempt_whose_sender_died_is_sent_once_its_hold_runs_out(
    services: Services, admin: Person, author: Person, receiver: Receiver, clock: MovableClock
) -> None:
    await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    (delivery_id,) = await _pending_ids(services)
    # A sender claims the attempt and dies before sending or recording anything.
    async with services.db.write() as conn:
        now = clock()
        assert await WebhookRepository(conn).claim(delivery_id, now, now + HOLD) is not None

    assert await deliver_due(services) == 0  # held: nobody else sends it meanwhile
    clock.advance(HOLD + timedelta(seconds=1))
    assert await deliver_due(services) == 1
    (arrival,) = receiver.arrivals
    assert await _pending_ids(services) == []
    assert orjson.loads(arrival.body)["type"] == "post.created"
