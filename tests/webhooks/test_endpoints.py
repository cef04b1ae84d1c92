"""Managing webhook endpoints over REST: only users:manage holders, shapes as documented, the
secret shown only on creation and rotation, the delivery log newest first with filters."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from pressroom.jobs.worker import Worker
from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.webhooks.conftest import MovableClock, subscribe
from tests.webhooks.receiver import Receiver

ENDPOINT_FIELDS = {
    "id",
    "url",
    "events",
    "description",
    "enabled",
    "disabledReason",
    "createdAt",
    "updatedAt",
}
DELIVERY_FIELDS = {
    "id",
    "eventId",
    "eventType",
    "attempt",
    "status",
    "responseStatus",
    "durationMs",
    "error",
    "createdAt",
    "nextAttemptAt",
}


async def _routes(admin: Person, receiver: Receiver, worker: Worker) -> list[tuple[str, str, Any]]:
    """Every webhook route, each on a fresh endpoint (and a delivery to retry)."""
    hook = await subscribe(admin, receiver.url, "user.updated")
    await admin.patch(f"/users/{admin.id}", json={"profile": {"bio": "x"}})
    await worker.drain()
    (delivery,) = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    base = f"/webhooks/{hook['id']}"
    return [
        ("POST", "/webhooks", {"url": receiver.url, "events": ["post.created"]}),
        ("GET", "/webhooks", None),
        ("GET", base, None),
        ("PATCH", base, {"description": "changed"}),
        ("POST", f"{base}/rotate-secret", None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/deliveries/{delivery['id']}/retry", None),
        ("DELETE", base, None),
    ]


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        ("anon", 401, "AUTHENTICATION_ERROR"),
        ("author", 403, "AUTHORIZATION_ERROR"),
        ("moderator", 403, "AUTHORIZATION_ERROR"),
    ],
    indirect=["caller"],
)
async def test_only_users_manage_holders_reach_webhooks(
    caller: Any,
    status: int,
    code: str,
    admin: Person,
    receiver: Receiver,
    worker: Worker,
    anon: httpx.AsyncClient,
) -> None:
    headers = caller.headers if isinstance(caller, Person) else {}
    for method, url, body in await _routes(admin, receiver, worker):
        reply = await anon.request(method, url, json=body, headers=headers)
        assert_error(reply, status, code)
    # Nothing was changed by the refused calls.
    (hook,) = (await admin.get("/webhooks")).json()["data"]
    assert hook["description"] is None


async def test_an_admin_reaches_every_webhook_route(
    admin: Person, receiver: Receiver, worker: Worker
) -> None:
    expected = {"POST": (201, 200, 202), "GET": (200,), "PATCH": (200,), "DELETE": (204,)}
    for method, url, body in await _routes(admin, receiver, worker):
        reply = await admin.http.request(method, url, json=body, headers=admin.headers)
        assert reply.status_code in expected[method], (method, url, reply.text)


async def test_creation_shows_the_secret_once(admin: Person, receiver: Receiver) -> None:
    reply = await admin.post(
        "/webhooks",
        json={"url": receiver.url, "events": ["post.published"], "description": "Site build"},
    )
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert set(made) == ENDPOINT_FIELDS | {"secret"}
    assert reply.headers["location"] == f"/api/v1/webhooks/{made['id']}"
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) == 32
    assert (made["url"], made["events"], made["description"]) == (
        receiver.url,
        ["post.published"],
        "Site build",
    )
    assert (made["enabled"], made["disabledReason"]) == (True, None)

    shown = (await admin.get(f"/webhooks/{made['id']}")).json()
    listed = (await admin.get("/webhooks")).json()
    assert set(shown) == ENDPOINT_FIELDS
    assert listed["data"] == [shown]
    assert listed["pagination"] == {"page": 1, "limit": 20, "total": 1, "totalPages": 1}
    assert made["secret"] not in str(shown) + str(listed)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/x", "events": ["nope.happened"]}, "events.0"),
        ({"url": "http://127.0.0.1/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1/x", "events": ["post.created", "post.created"]}, "events"),
        ({"url": "ftp://127.0.0.1/x", "events": ["post.created"]}, "url"),
        ({"url": "not a url", "events": ["post.created"]}, "url"),
        ({"events": ["post.created"]}, "url"),
        ({"url": "http://127.0.0.1/x", "events": ["post.created"], "secret": "mine"}, "secret"),
        ({"url": "http://127.0.0.1/x", "events": ["post.created"], "enabled": False}, "enabled"),
    ],
)
async def test_bad_bodies_are_400s_naming_the_field(
    admin: Person, body: dict[str, Any], field: str
) -> None:
    error = assert_error(await admin.post("/webhooks", json=body), 400, "VALIDATION_ERROR")
    assert field in error["details"], error


async def test_update_enable_and_disable(admin: Person, receiver: Receiver) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    url = f"/webhooks/{hook['id']}"
    changed = (
        await admin.patch(
            url,
            json={
                "events": ["tag.updated", "tag.deleted"],
                "description": "Tags",
                "enabled": False,
            },
        )
    ).json()
    assert changed["events"] == ["tag.updated", "tag.deleted"]
    assert (changed["description"], changed["enabled"], changed["disabledReason"]) == (
        "Tags",
        False,
        "manual",
    )
    again = (await admin.patch(url, json={"enabled": True, "description": None})).json()
    assert (again["enabled"], again["disabledReason"], again["description"]) == (True, None, None)
    assert_error(await admin.patch(url, json={"url": None}), 400, "VALIDATION_ERROR")
    assert_error(await admin.patch(url, json={"id": 5}), 400, "VALIDATION_ERROR")


async def test_missing_webhooks_and_deliveries_are_404s(admin: Person, receiver: Receiver) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    for method, url in [
        ("GET", "/webhooks/999999"),
        ("PATCH", "/webhooks/999999"),
        ("DELETE", "/webhooks/999999"),
        ("POST", "/webhooks/999999/rotate-secret"),
        ("GET", "/webhooks/999999/deliveries"),
        ("POST", f"/webhooks/{hook['id']}/deliveries/999999/retry"),
    ]:
        body = {} if method == "PATCH" else None
        reply = await admin.http.request(method, url, json=body, headers=admin.headers)
        assert_error(reply, 404, "NOT_FOUND")
    assert (await admin.delete(f"/webhooks/{hook['id']}")).status_code == 204
    assert_error(await admin.get(f"/webhooks/{hook['id']}"), 404, "NOT_FOUND")


async def test_the_delivery_log_is_newest_first_paginated_and_filtered(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    receiver.answers = [500]
    hook = await subscribe(admin, receiver.url, "post.created", "post.deleted")
    post = (await author.post("/posts", json={"title": "T", "content": "C"})).json()
    await author.delete(f"/posts/{post['id']}")
    await worker.drain()
    url = f"/webhooks/{hook['id']}/deliveries"

    log = (await admin.get(url)).json()
    assert all(set(d) == DELIVERY_FIELDS for d in log["data"])
    assert [(d["eventType"], d["attempt"], d["status"]) for d in log["data"]] == [
        ("post.created", 2, "pending"),
        ("post.deleted", 1, "succeeded"),
        ("post.created", 1, "failed"),
    ]
    assert log["pagination"]["total"] == 3
    ids = [d["id"] for d in log["data"]]
    assert ids == sorted(ids, reverse=True)

    second_page = (await admin.get(url, params={"limit": 2, "page": 2})).json()
    assert [d["id"] for d in second_page["data"]] == ids[2:]
    failed = (await admin.get(url, params={"status": "failed"})).json()["data"]
    assert [d["id"] for d in failed] == [ids[2]]
    deleted = (await admin.get(url, params={"event_type": "post.deleted"})).json()["data"]
    assert [d["id"] for d in deleted] == [ids[1]]
    created_id = log["data"][0]["eventId"]
    by_event = (await admin.get(url, params={"event_id": created_id})).json()["data"]
    assert [d["id"] for d in by_event] == [ids[0], ids[2]]
    for bad in ({"status": "lost"}, {"event_type": "post.sent"}, {"limit": 101}):
        assert_error(await admin.get(url, params=bad), 400, "VALIDATION_ERROR")


async def test_retry_is_refused_while_disabled(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    clock: MovableClock,
    worker: Worker,
) -> None:
    hook = await subscribe(admin, receiver.url, "post.created")
    await author.post("/posts", json={"title": "T", "content": "C"})
    await worker.drain()
    (delivery,) = (await admin.get(f"/webhooks/{hook['id']}/deliveries")).json()["data"]
    await admin.patch(f"/webhooks/{hook['id']}", json={"enabled": False})
    reply = await admin.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry")
    assert_error(reply, 409, "CONFLICT")
