"""Real `pressroom serve` processes on free loopback ports, and a TCP proxy that can cut a link.

The proxy runs its own event loop in a thread, so sync tests, async tests and SQLAlchemy event
hooks can all cut and restore it. Cut means: open connections are dropped and new ones are
accepted but never answered (a dead host, not a polite refusal), so only timeouts end a wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PRESSROOM = str(Path(sys.executable).with_name("pressroom"))
STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 25.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise


def server_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # Servers on SQLite run the mail worker in-process: its `.eml` files go nowhere near the tree.
    mail_dir = str(Path(tempfile.gettempdir()) / "pressroom-test-mail")
    env.update({"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", "MAIL_DIR": mail_dir, **settings})
    return env


def start_server(log_dir: Path, *, workers: int = 1, **settings: str) -> Server:
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    command = [PRESSROOM, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=server_env(**settings),
        )
    server = Server(process, port, log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{server.logs()}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    server.terminate()
    pytest.fail(f"server did not start within {STARTUP_SECONDS} s:\n{server.logs()}")


@contextmanager
def running_server(log_dir: Path, *, workers: int = 1, **settings: str) -> Iterator[Server]:
    server = start_server(log_dir, workers=workers, **settings)
    try:
        yield server
    finally:
        server.terminate()


class TcpProxy:
    """127.0.0.1:<port> → target, until `cut()`; `restore()` lets new connections through."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._cut = False
        self._links: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self) -> None:
        self._call(self._drop_links())

    def restore(self) -> None:
        self._cut = False

    def _call(self, coroutine: object) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        future.result(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _drop_links(self) -> None:
        self._cut = True
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _shutdown(self) -> None:
        await self._drop_links()
        self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._links.add(writer)
        if self._cut:
            # A dead host: take the bytes, never answer.
            with suppress(OSError):
                while await reader.read(65536):
                    pass
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._links.discard(writer)
            writer.transport.abort()
