"""Deliveries made by real job workers to a real receiver on loopback: signed as Standard
Webhooks, retried with the same `webhook-id`, logged attempt by attempt, disabled on 410, signed
twice during a rotation, one worker at a time per attempt, and picked up after a worker dies."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text
from standardwebhooks import Webhook, WebhookVerificationError

from pressroom.db.tables import jobs, webhook_deliveries
from pressroom.db.units import unit_of_work
from pressroom.jobs.repository import JobRepository
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.services import Services
from pressroom.webhooks.delivery import Outcome
from pressroom.webhooks.models import DeliveryStatus
from pressroom.webhooks.queue import DELIVERY_JOB, DeliveryJobs
from pressroom.webhooks.repository import WebhookRepository
from tests.conftest import Person
from tests.operations.processes import PRESSROOM, server_env
from tests.webhooks.conftest import MovableClock, job_worker, subscribe
from tests.webhooks.receiver import Receiver, running

POST = {"title": "Hello", "content": "World", "published": True}


async def test_signature_verifies_with_the_standard_webhooks_library(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    created = (await author.post("/posts", json=POST)).json()

    await worker.drain()

    (arrival,) = receiver.arrivals
    event = Webhook(hook["secret"]).verify(arrival.body, arrival.headers)
    assert event["type"] == "post.created"
    assert event["data"] == created
    assert arrival.headers["webhook-id"] == str(event["id"])
    assert arrival.headers["content-type"] == "application/json"


async def test_a_receiver_failing_twice_gets_the_same_webhook_id_three_times(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.answers = [500, 503]
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)

    await worker.drain()
    clock.advance(timedelta(seconds=6))  # past the first retry's 5 s (and its jitter)
    await worker.drain()
    clock.advance(timedelta(minutes=6))
    await worker.drain()

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
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.default = 500
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    await worker.drain()
    for wait in (5, 300, 1800, 7200, 18000, 36000):
        clock.advance(timedelta(seconds=wait * 0.85))
        assert await worker.drain() == 0, "a retry came before its time"
        clock.advance(timedelta(seconds=wait * 0.3))
        assert await worker.drain() == 1
    clock.advance(timedelta(days=2))
    assert await worker.drain() == 0

    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()
    assert [d["attempt"] for d in log["data"]] == [7, 6, 5, 4, 3, 2, 1]
    assert all(d["status"] == "failed" for d in log["data"])
    assert log["data"][0]["nextAttemptAt"] is None
    assert len(receiver.arrivals) == 7


async def test_410_disables_the_endpoint_at_once_and_an_event_says_so(
    services: Services, admin: Person, author: Person, clock: MovableClock, worker: Worker
) -> None:
    with running(Receiver(default=410)) as gone, running(Receiver()) as watcher:
        hook = await subscribe(admin, gone.url, "post.created")
        await subscribe(admin, watcher.url, "webhook.disabled")
        await author.post("/posts", json=POST)
        await worker.drain()
        clock.advance(timedelta(days=1))
        await worker.drain()

        assert len(gone.arrivals) == 1
        shown = (await admin.get(f"/webhooks/{hook['id']}")).json()
        assert shown["enabled"] is False
        assert shown["disabledReason"] == "gone"
        (notice,) = watcher.arrivals
        assert orjson.loads(notice.body)["data"] == {"id": hook["id"], "reason": "gone"}

        await author.post("/posts", json=POST)  # a disabled endpoint is sent nothing more
        await worker.drain()
        assert len(gone.arrivals) == 1
    metrics = (await admin.http.get("http://testserver/metrics")).text
    assert 'pressroom_webhook_endpoints_disabled_total{reason="gone"} 1.0' in metrics
    assert 'pressroom_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
    assert 'pressroom_webhook_deliveries_total{outcome="succeeded"} 1.0' in metrics
    assert "pressroom_webhook_delivery_duration_seconds_count 2.0" in metrics


async def test_an_endpoint_failing_for_five_days_is_disabled(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.default = 500
    hook = await subscribe(admin, receiver.url, "post.created")
    for _day in range(6):
        await author.post("/posts", json=POST)
        await worker.drain()
        clock.advance(timedelta(days=1))
    await worker.drain()
    shown = (await admin.get(f"/webhooks/{hook['id']}")).json()
    assert (shown["enabled"], shown["disabledReason"]) == (False, "failing")


async def test_a_success_resets_the_five_days(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    for day in range(8):
        receiver.default = 204 if day == 4 else 500
        await author.post("/posts", json=POST)
        await worker.drain()
        clock.advance(timedelta(days=1))
    assert (await admin.get(f"/webhooks/{hook['id']}")).json()["enabled"] is True


async def test_rotation_signs_with_both_secrets_for_a_day(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    rotated = (await admin.post(f"/webhooks/{hook['id']}/rotate-secret")).json()
    assert rotated["secret"] != hook["secret"]
    assert rotated["secret"].startswith("whsec_")

    await author.post("/posts", json=POST)
    await worker.drain()
    (during,) = receiver.arrivals
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(hook["secret"]).verify(during.body, during.headers)
    Webhook(rotated["secret"]).verify(during.body, during.headers)

    clock.advance(timedelta(hours=24, minutes=1))
    await author.post("/posts", json=POST)
    # The post's event is due at the real time it was recorded, which the moved clock passed.
    await worker.drain()
    after = receiver.arrivals[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated["secret"]).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(after.body, after.headers)


async def test_events_reach_an_endpoint_in_order_unless_a_retry_is_pending(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.answers = [500]
    receiver.gate = threading.Event()
    hook = await subscribe(admin, receiver.url, "post.created")
    await worker.drain()  # what sign-ups queued, out of the way
    await author.post("/posts", json={**POST, "title": "first"})
    await author.post("/posts", json={**POST, "title": "second"})

    # One worker holds the first event's attempt in flight...
    one_at_a_time = job_worker(services, clock, concurrency=1)
    sending_first = asyncio.create_task(one_at_a_time.run_due())
    await asyncio.to_thread(receiver.arrived.wait, 10)
    # ...so another, taking the second event's job, sends nothing: that event waits its turn.
    assert await job_worker(services, clock).run_due() == 1
    assert len(receiver.arrivals) == 1
    receiver.gate.set()
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert (log[0]["status"], log[0]["nextAttemptAt"]) == ("pending", None)  # parked
    assert await sending_first == 1
    # The first failed (500); with only its retry pending, the second goes out before it.
    await worker.drain()
    assert len(receiver.arrivals) == 2
    clock.advance(timedelta(seconds=10))
    await worker.drain()

    titles = [orjson.loads(a.body)["data"]["title"] for a in receiver.arrivals]
    assert titles == ["first", "second", "first"]


async def test_a_job_for_an_attempt_already_made_sends_nothing(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    (delivery_id,) = await _pending_ids(services)
    await worker.drain()
    async with services.db.write() as conn:  # the same attempt asked for again
        await DeliveryJobs().schedule(conn, delivery_id, utcnow())
    assert await worker.drain() == 1
    assert len(receiver.arrivals) == 1
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert [(d["attempt"], d["status"]) for d in log] == [(1, "succeeded")]


async def test_redirects_are_not_followed(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    with running(Receiver()) as elsewhere:
        receiver.default = 307
        receiver.extra_headers = {"location": elsewhere.url}
        hook = await subscribe(admin, receiver.url, "post.created")
        await author.post("/posts", json=POST)
        await worker.drain()
        assert elsewhere.arrivals == []
    (attempt,) = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"][-1:]
    assert attempt["attempt"] == 1
    assert (attempt["status"], attempt["responseStatus"]) == ("failed", 307)


async def test_a_retry_by_hand_sends_the_event_again(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    await worker.drain()
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    reply = await admin.post(f"/webhooks/{hook['id']}/deliveries/{log[0]['id']}/retry")
    assert reply.status_code == 202, reply.text
    assert (reply.json()["attempt"], reply.json()["status"]) == (2, "pending")
    again = await admin.post(f"/webhooks/{hook['id']}/deliveries/{log[0]['id']}/retry")
    assert again.status_code == 409
    await worker.drain()
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


async def _delivery_jobs(services: Services) -> list[tuple[str, int, str | None]]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(jobs.c.status, jobs.c.attempts, jobs.c.last_error)
            .where(jobs.c.kind == DELIVERY_JOB)
            .order_by(jobs.c.id)
        )
        return [(r.status, r.attempts, r.last_error) for r in rows]


async def test_two_workers_never_send_the_same_attempt_at_once(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.gate = threading.Event()
    hook = await subscribe(admin, receiver.url, "post.created")
    await worker.drain()  # what sign-ups queued, out of the way
    await author.post("/posts", json=POST)

    # The first worker is held mid-delivery by the receiver, its job's lease short.
    first = job_worker(services, clock, lease_seconds=2.5)
    sending = asyncio.create_task(first.run_due())
    assert await asyncio.to_thread(receiver.arrived.wait, 10)
    # Meanwhile a second worker finds nothing to do: the attempt's job is the first's.
    second = job_worker(services, clock)
    assert await second.run_due() == 0
    assert len(receiver.arrivals) == 1
    # The first gives the attempt up before its lease ends, recording nothing of it...
    assert await sending == 1
    assert await _delivery_jobs(services) == [("pending", 1, "TimeoutError")]
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert [(d["attempt"], d["status"]) for d in log] == [(1, "pending")]
    receiver.gate.set()
    # ...and only then may another worker make it, as the same attempt with the same id.
    clock.advance(timedelta(minutes=1))
    assert await second.run_due() == 1
    assert len(receiver.arrivals) == 2
    assert receiver.arrivals[0].headers["webhook-id"] == receiver.arrivals[1].headers["webhook-id"]
    log = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert [(d["attempt"], d["status"]) for d in log] == [(1, "succeeded")]
    assert await _delivery_jobs(services) == [("succeeded", 2, None)]


async def test_an_attempt_whose_worker_died_is_sent_once_its_lease_runs_out(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    await subscribe(admin, receiver.url, "post.created")
    await worker.drain()  # what sign-ups queued, out of the way
    await author.post("/posts", json=POST)
    # A worker claims the attempt's job and dies before sending or recording anything.
    lease = timedelta(seconds=60)
    async with services.db.write() as conn:
        assert len(await JobRepository(conn).claim("dead", clock(), lease, 10)) == 1

    assert await worker.drain() == 0  # leased: nobody else sends it meanwhile
    clock.advance(lease + timedelta(seconds=1))
    assert await worker.drain() == 1
    (arrival,) = receiver.arrivals
    assert await _pending_ids(services) == []
    assert orjson.loads(arrival.body)["type"] == "post.created"


async def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_worker(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    worker: Worker,
    database_url: str,
) -> None:
    receiver.gate = threading.Event()
    hook = await subscribe(admin, receiver.url, "post.created")
    await worker.drain()  # what sign-ups queued, out of the way
    await author.post("/posts", json=POST)
    env = server_env(
        DATABASE_URL=database_url,
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        JOB_LEASE_SECONDS="3",
        WORKER_POLL_SECONDS="0.1",
    )
    first = await asyncio.create_subprocess_exec(
        PRESSROOM, "worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        reached = await asyncio.to_thread(receiver.arrived.wait, 60)
        assert reached, "the worker never reached the receiver"
        first.send_signal(signal.SIGKILL)  # mid-delivery: the request sent, no answer yet
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    assert await _delivery_jobs(services) == [("running", 1, None)]  # held by a worker gone
    receiver.arrived.clear()
    receiver.gate.set()
    second = await asyncio.create_subprocess_exec(
        PRESSROOM, "worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert await asyncio.to_thread(receiver.arrived.wait, 60), "never delivered again"
        log = await _wait_for_log(admin, hook["id"], "succeeded")
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        if second.returncode is None:
            second.kill()
    assert [(d["attempt"], d["status"], d["responseStatus"]) for d in log] == [
        (1, "succeeded", 204)
    ]
    assert len(receiver.arrivals) == 2
    assert receiver.arrivals[0].headers["webhook-id"] == receiver.arrivals[1].headers["webhook-id"]
    assert await _delivery_jobs(services) == [("succeeded", 2, None)]


async def _wait_for_log(admin: Person, hook_id: int, status: str) -> list[dict[str, Any]]:
    """The delivery log once its newest attempt has `status` (another process records it)."""
    for _ in range(300):
        log: list[dict[str, Any]] = (await admin.get(f"/webhooks/{hook_id}/deliveries")).json()[
            "data"
        ]
        if log and log[0]["status"] == status:
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"the delivery never became {status}: {log}")


async def test_a_retry_waiting_for_its_time_is_not_counted_as_queue_lag(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.default = 500
    await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json=POST)
    clock.advance(timedelta(hours=1))  # the retry falls an hour and 5 s from now
    await worker.drain()
    async with services.db.read() as conn:
        pending = (await conn.execute(select(jobs.c.kind).where(jobs.c.status == "pending"))).all()
    assert [job.kind for job in pending] == [DELIVERY_JOB]
    metrics = (await admin.http.get("http://testserver/metrics")).text
    assert "pressroom_jobs_queued 1.0" in metrics
    assert "pressroom_jobs_oldest_pending_age_seconds 0.0" in metrics


@pytest.mark.postgres_only
async def test_an_event_deciding_to_wait_while_the_older_one_is_settled_is_not_left_waiting(
    services: Services, admin: Person, author: Person, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    await worker.drain()  # what sign-ups queued, out of the way
    await author.post("/posts", json={**POST, "title": "first"})
    await author.post("/posts", json={**POST, "title": "second"})
    first_id, second_id = await _pending_ids(services)

    async def job_done(_conn: Any) -> bool:
        return True

    async with unit_of_work(services.db) as uow:
        # The first event's attempt is being settled: its transaction holds the endpoint...
        async with services.db.write() as settling:
            repo = WebhookRepository(settling)
            first = await repo.pending_attempt(first_id)
            assert first is not None
            await repo.lock_endpoint(hook["id"])
            # ...while the second event's job asks whether an older event is still pending.
            second = asyncio.create_task(services.deliverer.attempt(uow, second_id, job_done))
            await _until_a_query_waits_for_a_lock(services)
            await repo.settle(
                first,
                status=DeliveryStatus.SUCCEEDED,
                response_status=204,
                duration_ms=1,
                error=None,
                next_attempt_at=None,
            )
        # Committed: the second's question is answered after it, so it is sent, not parked.
        assert await second is Outcome.SUCCEEDED
    assert [orjson.loads(a.body)["data"]["title"] for a in receiver.arrivals] == ["second"]


async def _until_a_query_waits_for_a_lock(services: Services) -> None:
    for _ in range(300):
        async with services.db.read() as conn:
            waiting = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no query ever waited for the endpoint's lock")
