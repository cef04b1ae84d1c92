"""Fixtures of the auth and users suites: every reply is checked for leaked secrets.

`no_secret_in_any_reply` is autouse here and in tests/users/: whatever a test does, no reply may
carry a password hash or a password that any request of the test has sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Executable

from pressroom.services import Services
from tests.conftest import PASSWORD

HASH_MARKERS = ("$argon2", "$2b$", "$2a$", "$2y$")
PASSWORD_FIELDS = ("password", "currentPassword", "newPassword")
# Shorter strings can occur in a reply by chance ("Ab1" in a token); real passwords here are longer.
MIN_TRACKED_PASSWORD_CHARS = 6
PUBLIC_USER_FIELDS = {"id", "profile", "createdAt"}
FULL_USER_FIELDS = PUBLIC_USER_FIELDS | {
    "email",
    "emailVerified",
    "roles",
    "settings",
    "updatedAt",
}


@pytest.fixture(autouse=True)
def no_secret_in_any_reply(client: httpx.AsyncClient) -> Iterator[None]:
    sent_passwords: set[str] = set()

    async def remember_passwords(request: httpx.Request) -> None:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(request.content or b"null")
            except ValueError:
                return
            if isinstance(body, dict):
                for name in PASSWORD_FIELDS:
                    value = body.get(name)
                    if isinstance(value, str) and len(value) >= MIN_TRACKED_PASSWORD_CHARS:
                        sent_passwords.add(value)

    async def refuse_secrets(response: httpx.Response) -> None:
        await response.aread()
        reply = response.text + json.dumps(dict(response.headers))
        for marker in HASH_MARKERS:
            assert marker not in reply, f"a password hash leaked: {response.request.url}"
        for password in sent_passwords:
            assert password not in reply, f"a password leaked: {response.request.url}"

    client.event_hooks["request"].append(remember_passwords)
    client.event_hooks["response"].append(refuse_secrets)
    yield
    client.event_hooks["request"].remove(remember_passwords)
    client.event_hooks["response"].remove(refuse_secrets)


async def sql(services: Services, statement: Executable) -> list[Any]:
    """Run SQL behind the API's back (to age a session, plant a legacy hash, read a row)."""
    async with services.db.write() as conn:
        result = await conn.execute(statement)
        return list(result.all()) if result.returns_rows else []


async def login_status(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> int:
    reply = await http.post("/auth/login", json={"email": email, "password": password})
    return reply.status_code


async def me_with(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    """GET /users/me with this access token (one minted or kept outside a `Person`)."""
    return await http.get("/users/me", headers={"Authorization": f"Bearer {access_token}"})
