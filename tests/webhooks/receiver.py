"""A real HTTP receiver on loopback: it records what arrives and answers as scripted."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`answers`: the status of each request in turn; once used up, `default`."""

    answers: list[int] = field(default_factory=list)
    default: int = 204
    body: bytes = b""
    delay_seconds: float = 0.0
    extra_headers: dict[str, str] = field(default_factory=dict)
    # When set, each request waits for it before answering (a test holds a delivery in flight).
    gate: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    arrivals: list[Arrival] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else self.default


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            receiver.arrivals.append(
                Arrival(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            receiver.arrived.set()
            if receiver.gate is not None:
                receiver.gate.wait(timeout=30)
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            self.send_response(receiver.next_status())
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(receiver.body)))
            self.end_headers()
            # The sender may stop reading (it reads 64 KiB at most) and close.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(receiver.body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
