"""A real SMTP server (aiosmtpd) the tests start, and what actually arrived at it."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

TOKEN_IN_LINK = re.compile(r"\?token=([A-Za-z0-9_-]+)")


@dataclass
class Arrived:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]

    @property
    def link(self) -> str:
        found = re.search(r"https?://\S+\?token=[A-Za-z0-9_-]+", self.part("plain"))
        assert found is not None, self.part("plain")
        return found.group(0)

    @property
    def token(self) -> str:
        match = TOKEN_IN_LINK.search(self.link)
        assert match is not None
        return match.group(1)


@dataclass
class Mailbox:
    """The server's handler: keeps each message it accepts. `replies` queues the answers to the
    next DATA commands ("451 ...", "550 ..."); `hold` makes the next DATA wait (a slow server)."""

    arrived: list[Arrived] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    hold: threading.Event | None = None
    data_started: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.data_started.set()
        if self.hold is not None:
            held, self.hold = self.hold, None
            while not held.is_set():  # the client may die meanwhile; nothing is kept then
                await _sleep(0.05)
            return "451 4.3.0 held and let go"
        if self.replies:
            return self.replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.arrived.append(Arrived(list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Arrived]:
        return [m for m in self.arrived if address in m.envelope_to]

    def wait_for(self, count: int, seconds: float = 30) -> list[Arrived]:
        deadline = time.monotonic() + seconds
        while len(self.arrived) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.arrived


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
