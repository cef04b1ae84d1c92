"""Pure ASGI middleware: request ids, one log line and metrics per request, the last-resort 500.

Pure ASGI rather than BaseHTTPMiddleware, so nothing here buffers or re-wraps response bodies.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.client_address import TrustedProxies
from pressroom.kit.observability import Metrics, get_logger, request_id_var, user_id_var
from pressroom.kit.responses import JsonResponse, error_body

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
log = get_logger("pressroom.request")


def route_template(scope: Scope) -> str:
    """The full template of the matched route (`/api/v1/posts/{post_id}`), for labels and logs.

    FastAPI ≥ 0.160 keeps included routers nested, so the matched route's own `path` lacks
    the prefixes; the effective route context it records carries the full template.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path_format", None)
    if isinstance(path, str):
        return path
    route = scope.get("route")
    # path_format, not path: without a convertor's name (`{user_id}`, not `{user_id:not_me}`).
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, metrics: Metrics, proxies: TrustedProxies | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.proxies = proxies or TrustedProxies(())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if not response_started:
                response = JsonResponse(
                    error_body("INTERNAL_ERROR", "An unexpected error occurred"), status_code=500
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            self.metrics.observe_request(method, route, status, elapsed)
            log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client_ip=self.proxies.client_of(scope),
            )
            user_id_var.reset(user_token)
            request_id_var.reset(request_token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_REQUEST_ID.match(text) else None
    return None
