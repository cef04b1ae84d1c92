"""CPU per request, in-process: Pressroom's ASGI app and R's, called directly, one request at a
time, with no HTTP server and no load generator sharing the cores.

wrk's requests/s on a shared 2-core machine moves with whatever else runs; the CPU one request
costs the server process does not. This is the figure to watch while changing the hot path,
and the process to attach py-spy to (`py-spy record -- python bench/inprocess.py ...`).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<seeded db> \
        .venv/bin/python bench/inprocess.py --requests 2000

On SQLite (`DATABASE_URL=sqlite:///<seeded file>`) measure Pressroom alone: `--only pressroom`.

The database must hold `pressroom seed-demo` data (the user below signs in).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_EMAIL = "user1@demo.pressroom.test"
DEMO_PASSWORD = "DemoPassw0rd!"  # pressroom.demo.DEMO_PASSWORD
GRAPHQL_LIST_QUERY = (
    "{ posts(first: 20) { totalCount edges { node { id title content published publishedAt "
    "createdAt updatedAt author { id profile { firstName lastName avatarUrl bio } } "
    "tags { id name slug } } } } }"
)

Asgi = Any


async def call(
    app: Asgi, method: str, path: str, token: str | None = None, body: bytes = b""
) -> tuple[int, bytes]:
    """One request through the ASGI interface, as uvicorn would make it."""
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"user-agent", b"inprocess")]
    if token:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def cpu_per_request(
    app: Asgi, method: str, path: str, token: str, count: int, body: bytes, concurrency: int
) -> float:
    for _ in range(max(50, count // 10)):  # warm caches, prepared statements, the pool
        status, reply = await call(app, method, path, token, body)
        if status >= 300:
            raise RuntimeError(f"{path} answered {status}: {reply[:300]!r}")

    async def client(requests: int) -> None:
        for _ in range(requests):
            await call(app, method, path, token, body)

    # Several clients at once, as under load: pool waits and task switches are part of the cost.
    began = time.process_time()
    await asyncio.gather(*(client(count // concurrency) for _ in range(concurrency)))
    return (time.process_time() - began) / (count // concurrency * concurrency) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1, help="clients at once")
    parser.add_argument("--only", choices=["pressroom", "reference"], default=None)
    parser.add_argument("--scenario", action="append", choices=["list", "post", "me", "graphql"])
    args = parser.parse_args()
    os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    os.environ["RATE_LIMITS_ENABLED"] = "false"
    os.environ["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "info")
    sys.path.insert(0, str(ROOT))

    from bench import reference

    from pressroom.app import create_app

    pressroom_app = create_app()
    async with AsyncExitStack() as running:
        await running.enter_async_context(pressroom_app.router.lifespan_context(pressroom_app))
        # R runs on PostgreSQL only; Pressroom alone measures either database (DATABASE_URL).
        if args.only != "pressroom":
            await running.enter_async_context(reference.lifespan(reference.app))
        status, reply = await call(
            pressroom_app,
            "POST",
            "/api/v1/auth/login",
            body=json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).encode(),
        )
        if status != 200:
            raise SystemExit(f"sign-in failed ({status}); is the database seeded? {reply!r}")
        token = json.loads(reply)["accessToken"]
        _, listed = await call(pressroom_app, "GET", "/api/v1/posts?limit=20", token)
        post_id = json.loads(listed)["data"][0]["id"]
        graphql = json.dumps({"query": GRAPHQL_LIST_QUERY}).encode()
        scenarios = {
            "list": ("GET", "/api/v1/posts?limit=20", b""),
            "post": ("GET", f"/api/v1/posts/{post_id}", b""),
            "me": ("GET", "/api/v1/users/me", b""),
            "graphql": ("POST", "/graphql", graphql),
        }
        apps = {"pressroom": pressroom_app, "reference": reference.app}
        out = sys.stderr  # the service logs each request on stdout
        print(f"{'scenario':10} {'Pressroom ms':>13} {'R ms':>8} {'R / P':>7}", file=out)
        for name in args.scenario or ["list", "post", "me", "graphql"]:
            method, path, body = scenarios[name]
            figures: dict[str, float] = {}
            # Rounds alternate the two apps and keep each one's cheapest: work from elsewhere on
            # the machine only ever adds CPU time (cache misses, frequency), never removes it.
            for _ in range(args.rounds):
                for who, app in apps.items():
                    if args.only not in (None, who) or (who == "reference" and name == "graphql"):
                        continue
                    spent = await cpu_per_request(
                        app, method, path, token, args.requests, body, args.concurrency
                    )
                    figures[who] = min(spent, figures.get(who, spent))
            p, r = figures.get("pressroom"), figures.get("reference")
            ratio = f"{r / p:7.2f}" if p and r else "      -"
            print(
                f"{name:10} {p or 0:13.3f} {r or 0:8.3f} {ratio}"
                if p
                else f"{name:10} {'-':>13} {r or 0:8.3f}       -",
                file=out,
            )


if __name__ == "__main__":
    asyncio.run(main())
