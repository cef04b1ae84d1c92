"""Idempotency-Key mechanics (draft-ietf-httpapi-idempotency-key-header): the header, the
request's fingerprint, the recorded reply, and the port a service records it through.

Which reply belongs to which key is stored by pressroom.idempotency; the service that makes the
change records the reply in the change's own transaction (`Receipt.record`), so a crash between
the commit and the reply leaves a reply to replay, never a change to repeat.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import Headers

from pressroom.kit.errors import ValidationFailed

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255
REPLAYED_HEADER = "Idempotent-Replayed"
ANONYMOUS_SCOPE = "anonymous"

Result = TypeVar("Result", contravariant=True)


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """What a replay sends again: status, body (bytes exactly as first sent) and Location."""

    status: int
    body: bytes
    location: str | None = None


class Receipt(Protocol[Result]):
    async def record(self, conn: AsyncConnection, result: Result) -> None:
        """Stores the reply to `result` in the caller's transaction. Raises (and so undoes the
        transaction) when the key is no longer this request's to complete."""


def idempotency_key(headers: Headers) -> str | None:
    """The key a request sent, if any. The draft makes it a Structured Field string (quoted);
    a bare token, as Stripe's clients send, is taken as well."""
    values = headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationFailed.on(HEADER, "send one Idempotency-Key header")
    value = values[0].strip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    if not value or len(value) > MAX_KEY_CHARS or not all(" " <= c <= "~" for c in value):
        raise ValidationFailed.on(
            HEADER, f"must be 1 to {MAX_KEY_CHARS} printable ASCII characters"
        )
    return value


def caller_scope(user_id: int | None) -> str:
    """Keys are the caller's own: one user's key never meets another's."""
    return ANONYMOUS_SCOPE if user_id is None else f"user:{user_id}"


def request_fingerprint(secret: bytes, method: str, path: str, body: bytes) -> str:
    """Which request a key was first used for. Keyed (HMAC), because a body may hold a password
    (sign-up) and a plain hash of it would be a fast one to guess against. A JSON body is taken
    in canonical form, so key order and spacing do not make a retry a different request."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    message = method.encode() + b" " + path.encode() + b"\n" + canonical
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
