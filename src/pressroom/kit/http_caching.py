"""One middleware for the API's reads: entity tags, 304s, Cache-Control, HEAD, the hot-read cache.

Every 200 to a GET under the API gets a strong `ETag` hashed from its bytes, `Vary:
Authorization`, and `Cache-Control: private` unless its endpoint said `public` (anonymous reads
of published content); `If-None-Match` naming it answers 304 with no body. HEAD is answered by
the GET itself with the body left off, so the two agree on every header by construction. A 200
to a PATCH carries the tag of the representation it returns, ready for the next `If-Match`.

Anonymous GETs (no `Authorization`) go through the hot-read cache when it is on; only replies
the endpoint marked public are kept (kit/hot_reads.py).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.conditional import (
    PRIVATE,
    entity_tag,
    none_match,
    not_modified_headers,
    vary_on_authorization,
)
from pressroom.kit.hot_reads import HotReadCache, StoredReply

_READS = ("GET", "HEAD")


class HttpCachingMiddleware:
    def __init__(self, app: ASGIApp, prefix: str, cache: HotReadCache | None = None) -> None:
        self.app = app
        self.prefix = prefix
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if method == "PATCH":
            await self._send(send, await self._capture(scope, receive), head=False)
            return
        if method not in _READS:
            await self.app(scope, receive, send)
            return
        read_scope = scope if method == "GET" else {**scope, "method": "GET"}
        headers = Headers(scope=scope)
        cache = self.cache
        if cache is not None:
            cache.listen_for_changes()
        if cache is not None and cache.usable and "authorization" not in headers:
            key = scope["path"] + "?" + scope["query_string"].decode("latin-1")
            reply = cache.get(key)
            if reply is None:

                async def compute() -> StoredReply:
                    return await self._capture(read_scope, receive)

                reply = await cache.fill(key, compute)
        else:
            reply = await self._capture(read_scope, receive)
        if reply.route is not None:
            scope.setdefault("route", reply.route)
        if reply.etag is not None and none_match(headers.get("if-none-match"), reply.etag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": not_modified_headers(Headers(raw=list(reply.headers))),
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await self._send(send, reply, head=method == "HEAD")

    async def _capture(self, scope: Scope, receive: Receive) -> StoredReply:
        """The app's reply, whole, with the tag and caching headers a 200 carries."""
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        body = b"".join(chunks)
        status: int = start["status"]
        route = scope.get("route")
        if status != 200:
            return StoredReply(status, tuple(start.get("headers", ())), body, None, False, route)
        headers = MutableHeaders(raw=list(start.get("headers", ())))
        etag = headers.get("etag") or entity_tag(body)
        headers["ETag"] = etag
        shareable = False
        if scope["method"] == "GET":
            cache_control = headers.setdefault("Cache-Control", PRIVATE)
            shareable = cache_control.startswith("public")
            vary_on_authorization(headers)
        return StoredReply(status, tuple(headers.raw), body, etag, shareable, route)

    @staticmethod
    async def _send(send: Send, reply: StoredReply, *, head: bool) -> None:
        # A fresh list each time: the middlewares outside add their headers to it in place,
        # and a kept reply must not collect another request's id.
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": list(reply.headers)}
        )
        await send({"type": "http.response.body", "body": b"" if head else reply.body})
