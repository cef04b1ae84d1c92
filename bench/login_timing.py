"""Login timing for a registered email (wrong password) and an unknown one, side by side.

The contract (docs/api.md) asks for about the same time on both paths; tests/security shows the
same hash work by counting verifications, this shows the clock. Run:

    .venv/bin/python bench/login_timing.py [--rounds 200] [--database-url sqlite:///...]

It runs the app in-process (no network) on a throwaway SQLite file unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from pressroom.app import create_app
from pressroom.auth.permissions import Role
from pressroom.config import Settings
from pressroom.db.migrate import migrate
from pressroom.db.units import unit_of_work
from pressroom.services import Services
from pressroom.users.schemas import CreateUserRequest

PASSWORD = "Correct-Horse-42"
# Fresh addresses each run, so a given --database-url may already hold earlier runs.
KNOWN_EMAIL = f"timing-{uuid.uuid4().hex[:12]}@example.com"
UNKNOWN_EMAIL = f"nobody-{uuid.uuid4().hex[:12]}@example.com"


async def measure(database_url: str, rounds: int) -> dict[str, list[float]]:
    app = create_app(
        Settings(database_url=database_url, rate_limits_enabled=False, log_level="WARNING")
    )
    services: Services = app.state.services
    data = CreateUserRequest.model_validate(
        {"email": KNOWN_EMAIL, "password": PASSWORD, "profile": {"firstName": "T", "lastName": "T"}}
    )
    async with unit_of_work(services.db) as uow:
        await services.users.sign_up(uow, data, roles=(Role.USER,))
    paths = {
        "registered email, wrong password": {"email": KNOWN_EMAIL, "password": "Wrong-Horse-42"},
        "unknown email": {"email": UNKNOWN_EMAIL, "password": "Wrong-Horse-42"},
    }
    timings: dict[str, list[float]] = {name: [] for name in paths}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1") as http:
        for _ in range(5):  # warm-up: imports, pools, first hashes
            for body in paths.values():
                await http.post("/auth/login", json=body)
        for _ in range(rounds):
            # Interleaved, so drift in machine load touches both paths alike.
            for name, body in paths.items():
                started = time.perf_counter()
                reply = await http.post("/auth/login", json=body)
                timings[name].append(time.perf_counter() - started)
                assert reply.status_code == 401, reply.text
    await services.close()
    return timings


def report(timings: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    width = max(len(name) for name in medians)
    print(f"{'path':<{width}}  median ms  p90 ms  n")
    for name, values in timings.items():
        p90 = statistics.quantiles(values, n=10)[-1] * 1000
        print(f"{name:<{width}}  {medians[name]:9.2f}  {p90:6.2f}  {len(values)}")
    known, unknown = medians.values()
    print(
        f"difference of medians: {abs(known - unknown):.2f} ms ({abs(known - unknown) / known:.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'timing.db'}"
        migrate(url)
        report(asyncio.run(measure(url, args.rounds)))


if __name__ == "__main__":
    main()
