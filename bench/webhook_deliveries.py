"""Webhooks, in-process: the CPU a post creation costs with 0 and with 3 endpoints subscribed to
every event, and how many deliveries a second one job worker makes to a receiver on loopback.

    .venv/bin/python bench/webhook_deliveries.py --posts 300
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<empty db> .venv/bin/python bench/...

A throwaway SQLite file when DATABASE_URL is not set; the database is migrated and written to.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Passw0rd-1"
ENDPOINTS = 3


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def prepare() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    os.environ["RATE_LIMITS_ENABLED"] = "false"
    os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
    os.environ.setdefault("LOG_LEVEL", "warning")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    sys.path.insert(0, str(ROOT))
    from pressroom.db.migrate import migrate

    migrate(os.environ["DATABASE_URL"])  # Alembic runs its own event loop: before ours starts
    return args


async def main(args: argparse.Namespace) -> None:
    from pressroom.app import create_app
    from pressroom.auth.permissions import Role
    from pressroom.users.schemas import CreateUserRequest

    app = create_app()
    services = app.state.services
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    email = f"bench-{secrets.token_hex(4)}@example.com"
    await services.users.sign_up(
        CreateUserRequest.model_validate(
            {"email": email, "password": PASSWORD, "profile": {"firstName": "B", "lastName": "W"}}
        ),
        roles=(Role.USER, Role.ADMIN),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1") as http:
        login = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
        http.headers["Authorization"] = f"Bearer {login.json()['accessToken']}"

        async def create_posts() -> float:
            began = time.process_time()
            for n in range(args.posts):
                body = {"title": f"Post {n}", "content": "Body", "published": True}
                assert (await http.post("/posts", json=body)).status_code == 201
            return (time.process_time() - began) / args.posts * 1000

        without = await create_posts()
        every_event = [
            "user.created", "user.updated", "user.deleted", "post.created", "post.updated",
            "post.published", "post.unpublished", "post.deleted", "tag.updated", "tag.deleted",
        ]  # fmt: skip
        for _ in range(ENDPOINTS):
            made = await http.post("/webhooks", json={"url": receiver_url, "events": every_event})
            assert made.status_code == 201, made.text
        with_hooks = await create_posts()

        # Each published post is two events (created, published), each to three endpoints.
        from pressroom.jobs.worker import Worker

        began = time.perf_counter()
        delivered = await Worker(services).drain()  # and the admin's verification mail
        seconds = time.perf_counter() - began
    await services.close()
    server.shutdown()
    print(f"POST /posts CPU, no webhooks:            {without:.2f} ms")
    print(f"POST /posts CPU, {ENDPOINTS} endpoints on every event: {with_hooks:.2f} ms")
    print(
        f"webhook deliveries: {delivered} in {seconds:.1f} s = {delivered / seconds:.0f}/s"
        " (one in-process job worker, receiver on loopback)"
    )


if __name__ == "__main__":
    asyncio.run(main(prepare()))
