"""A real `pressroom serve` on SQLite in a temporary directory, for what only a real server
shows (its own headers) and for `make fuzz`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PRESSROOM = Path(sys.executable).parent / "pressroom"
STARTUP_SECONDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(**env: str) -> Iterator[str]:
    """Yield the base URL of a migrated server on a fresh SQLite file; stop it afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(directory) / 'live.db'}",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        subprocess.run(
            [str(PRESSROOM), "migrate"], env=environment, check=True, capture_output=True
        )
        server = subprocess.Popen(
            [str(PRESSROOM), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, server)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"pressroom serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"pressroom serve did not answer within {STARTUP_SECONDS} s")
