"""Pure ASGI middleware: refuses oversized bodies (413), non-JSON REST bodies (415) and JSON
bodies that repeat a key in one object (400), before any door parses them."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.errors import AppError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from pressroom.kit.responses import error_response

DUPLICATE_KEY = "appears more than once in one JSON object"

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, json_only_prefix: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.json_only_prefix = json_only_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length: int | None = None
        chunked = False
        content_type = ""
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"content-type":
                content_type = value.decode("latin-1").split(";")[0].strip().lower()
        has_body = chunked or (length is not None and length > 0)
        refusal: AppError | None = None
        if length is not None and length > self.max_body_bytes:
            refusal = PayloadTooLarge(
                f"Request body is larger than the {self.max_body_bytes} bytes allowed"
            )
        elif (
            has_body
            and scope["path"].startswith(self.json_only_prefix)
            and not _is_json(content_type)
        ):
            refusal = UnsupportedMediaType()
        if refusal is not None:
            # The body is left unread; closing the connection after answering lets the client
            # see the reply instead of a reset while it is still sending.
            await _refuse(refusal, scope, receive, send)
            return
        if has_body and _is_json(content_type):
            await self._checked_json(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole JSON body (it is parsed whole anyway), refuse it if an object in it
        repeats a key, and hand it on. Every parser here (FastAPI's json.loads, orjson) keeps
        the last of two equal keys; two components reading one body could then disagree about
        it, so docs/api.md refuses it instead of guessing."""
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replaying([message], receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await _refuse(PayloadTooLarge(), scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        duplicate = _duplicate_key(body)
        if duplicate is not None:
            await _refuse(ValidationFailed.on(duplicate, DUPLICATE_KEY), scope, receive, send)
            return
        replay: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replaying([replay], receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions from body reading; the handler renders it.
                    raise HTTPException(413)
            return message

        return counted


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


async def _refuse(refusal: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(refusal)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _duplicate_key(body: bytes) -> str | None:
    """The first key repeated within one object of `body`, or None. Malformed JSON is left to
    the door that parses it, which reports it in its own words."""
    try:
        json.loads(body, object_pairs_hook=_no_repeats)
    except _DuplicateKey as found:
        return found.key or "body"
    except (ValueError, RecursionError):
        return None
    return None
