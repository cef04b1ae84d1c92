"""Pure ASGI middleware: browser hardening headers on every reply, TRACE refused, CORS.

The API's replies are JSON that no page should frame, sniff or run; only the docs page is a
page, and its policy lets it load its own scripts and styles and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.errors import AppError, MethodNotAllowed, NotFound
from pressroom.kit.responses import JsonResponse, error_body, error_response

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI starts from an inline script and inline styles; everything else is our own.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
_REFUSED_METHODS = {"TRACE", "TRACK", "CONNECT"}
_ROUTABLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    def __init__(
        self, app: ASGIApp, page_paths: Collection[str] = (), router: Router | None = None
    ) -> None:
        self.app = app
        self.page_paths = frozenset(page_paths)
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = PAGE_POLICY if scope["path"] in self.page_paths else API_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", policy)
                if "server" in headers:
                    del headers["server"]
            await send(message)

        if scope["method"] in _REFUSED_METHODS:
            # TRACE echoes requests back (cross-site tracing); nothing here needs it.
            await self._refusal(scope)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response:
        """405 with the `Allow` header RFC 9110 §15.5.6 requires; 404 where nothing is routed."""
        allowed = self._allowed_methods(scope)
        refusal: AppError = (
            MethodNotAllowed(f"{scope['method']} is not allowed") if allowed else NotFound()
        )
        response = error_response(refusal)
        if allowed:
            response.headers["Allow"] = ", ".join(m for m in _ROUTABLE_METHODS if m in allowed)
        return response

    def _allowed_methods(self, scope: Scope) -> set[str]:
        # Asks each route whether it would take the request under another method: `matches`
        # is the one routing question every route type answers. Mounts take any method and
        # say nothing about what their app supports, so they are left out.
        routes = [
            r for r in (self.router.routes if self.router else ()) if not isinstance(r, Mount)
        ]
        return {
            method
            for method in _ROUTABLE_METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
        }


class CorsMiddleware(CORSMiddleware):
    """Starlette's CORS, limited to the configured origins; refusals use the error envelope."""

    def __init__(self, app: ASGIApp, allow_origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Location",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
                "WWW-Authenticate",
            ],
            allow_credentials=False,
            max_age=600,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v for k, v in response.headers.items() if k not in {"content-type", "content-length"}
        }
        message = bytes(response.body).decode()
        return JsonResponse(error_body("VALIDATION_ERROR", message), 400, headers=headers)
