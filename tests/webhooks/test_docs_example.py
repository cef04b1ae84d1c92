"""docs/webhooks.md's receiver example, run as written against a real delivery."""

from __future__ import annotations

import os
import re
import threading
import types
from http.server import HTTPServer
from pathlib import Path

import httpx

from pressroom.jobs.worker import Worker
from tests.conftest import Person

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"


def example_source() -> str:
    text = DOC.read_text()
    section = text.split("### Receiving: an example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the receiver example is a python block in docs/webhooks.md"
    return match.group(1)


def load_example(secret: str) -> types.ModuleType:
    module = types.ModuleType("webhook_receiver_example")
    os.environ["PRESSROOM_WEBHOOK_SECRET"] = secret
    try:
        exec(compile(example_source(), str(DOC), "exec"), module.__dict__)
    finally:
        del os.environ["PRESSROOM_WEBHOOK_SECRET"]
    return module


async def test_the_documented_receiver_verifies_a_real_delivery(
    admin: Person, author: Person, worker: Worker
) -> None:
    # The secret exists once the endpoint does; the receiver's address once it runs.
    made = (
        await admin.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["post.published"]}
        )
    ).json()
    example = load_example(made["secret"])
    server = HTTPServer(("127.0.0.1", 0), example.Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    await admin.patch(f"/webhooks/{made['id']}", json={"url": url})
    try:
        post = (
            await author.post("/posts", json={"title": "T", "content": "C", "published": True})
        ).json()
        await worker.drain()
        delivery_id = (await admin.get(f"/webhooks/{made['id']}/deliveries")).json()["data"][0][
            "id"
        ]
        await admin.post(f"/webhooks/{made['id']}/deliveries/{delivery_id}/retry")
        await worker.drain()

        # Handled once though delivered twice (the retry by hand), and answered 204 both times.
        assert [(e["type"], e["data"]) for e in example.received] == [("post.published", post)]
        log = (await admin.get(f"/webhooks/{made['id']}/deliveries")).json()["data"]
        assert [(d["status"], d["responseStatus"]) for d in log] == [("succeeded", 204)] * 2

        # A forged message is turned away.
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url,
                content=b'{"type": "post.published"}',
                headers={
                    "webhook-id": "1",
                    "webhook-timestamp": "1700000000",
                    "webhook-signature": "v1,AAAA",
                },
            )
        assert forged.status_code == 400
    finally:
        server.shutdown()
        server.server_close()
