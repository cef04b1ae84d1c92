"""Redis round trips per request, counted on the wire: what rate limits and revocation cost.

Starts a private `redis-server` on a free loopback port (nothing else talks to it), a real
`pressroom serve` with `REDIS_URL` pointing there and rate limits on, then makes N anonymous
and N signed-in requests while Redis `MONITOR` lists every command a client sent. Commands a
Lua script runs inside Redis are listed as `lua` and are not round trips, so they are left out.
Run:

    .venv/bin/python bench/redis_round_trips.py [--requests 200]

`bench/run.py` runs it too and prints the figures under its table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

BIN = Path(sys.executable).parent
DONE = "pressroom-bench-done"
PASSWORD = "Correct-Horse-42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("w") as out:
        child = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def wait_until(ready: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with suppress(Exception):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class Monitor:
    """Counts the commands clients send to Redis (not those Lua scripts run) until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.count = 0
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Monitor:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        with Redis.from_url(self.url) as client:
            client.echo(DONE)
        self._thread.join(10)

    def _run(self) -> None:
        with Redis.from_url(self.url) as client, client.monitor() as monitor:
            self._started.set()
            for command in monitor.listen():
                if DONE in command["command"]:
                    return
                if command.get("client_type") != "lua":
                    self.count += 1


def measure(requests: int = 200) -> dict[str, float]:
    """Round trips to Redis per request: anonymous, and signed in (limits + revocation)."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise RuntimeError("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="pressroom-redis-bench-") as folder:
        redis_port, port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
            "RATE_LIMITS_ENABLED": "true",
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "PRESSROOM_ENV": "development",
            "LOG_LEVEL": "WARNING",
        }
        redis_command = [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1"]
        redis_command += ["--save", "", "--appendonly", "no", "--dir", folder]
        migrate = [str(BIN / "pressroom"), "migrate"]
        subprocess.run(migrate, env=env, check=True, capture_output=True)
        serve = [str(BIN / "pressroom"), "serve", "--port", str(port), "--workers", "1"]
        with (
            process(redis_command, env, Path(folder) / "redis.log"),
            process(serve, env, Path(folder) / "server.log"),
        ):
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda: httpx.get(f"{base}/readyz").status_code == 200, "the server")
            with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as http:
                email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
                profile = {"firstName": "Bench", "lastName": "Redis"}
                body = {"email": email, "password": PASSWORD, "profile": profile}
                http.post("/users", json=body).raise_for_status()
                login = http.post("/auth/login", json={"email": email, "password": PASSWORD})
                token = login.raise_for_status().json()["accessToken"]
                signed_in = {"Authorization": f"Bearer {token}"}
                figures: dict[str, float] = {}
                for name, headers in (("anonymous", {}), ("signed_in", signed_in)):
                    for _ in range(5):  # scripts loaded, connections open
                        http.get("/tags", headers=headers).raise_for_status()
                    with Monitor(redis_url) as monitor:
                        for _ in range(requests):
                            http.get("/tags", headers=headers).raise_for_status()
                    figures[name] = monitor.count / requests
    return figures


def report_line(figures: dict[str, float]) -> str:
    return (
        f"redis round trips per request (rate limits on, GET /tags): "
        f"anonymous {figures['anonymous']:.2f}, signed in {figures['signed_in']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    print(report_line(measure(parser.parse_args().requests)))


if __name__ == "__main__":
    main()
