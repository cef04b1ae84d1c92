"""SIGTERM lets in-flight requests finish: a real server process, a request still uploading."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from pressroom.db.migrate import migrate
from tests.conftest import PASSWORD
from tests.operations.processes import running_server

BOUND_SECONDS = 20.0


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_sigterm_lets_an_in_flight_request_finish(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shutdown.db'}"
    migrate(database)
    body = json.dumps(
        {
            "email": "late@example.com",
            "password": PASSWORD,
            "profile": {"firstName": "Late", "lastName": "Comer"},
        }
    ).encode()
    with running_server(tmp_path, DATABASE_URL=database) as server:
        request = socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_SECONDS)
        head = (
            "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        # Headers and half the body: the request has started and waits for the rest.
        request.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)

        deadline = time.monotonic() + BOUND_SECONDS
        while listening(server.port):
            if time.monotonic() > deadline:
                pytest.fail("the server kept accepting connections after SIGTERM")
            time.sleep(0.05)
        assert server.process.poll() is None, "the server quit with a request in flight"

        request.sendall(body[len(body) // 2 :])
        reply = b""
        while chunk := request.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and reply.endswith(b"}"):
                break
        request.close()
        assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
        # uvicorn ends by re-raising the signal it handled, as process managers expect.
        assert server.process.wait(timeout=BOUND_SECONDS) in {0, -signal.SIGTERM}
        assert "Finished server process" in server.logs()
    assert '"late@example.com"' in reply.decode()
