"""Pure ASGI middleware: refuses oversized bodies (413) and non-JSON REST bodies (415)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.errors import AppError, PayloadTooLarge, UnsupportedMediaType
from pressroom.kit.responses import error_response

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
            response = error_response(refusal)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

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
