"""Pure ASGI middleware: every route's limits, per client address and per signed-in user.

It runs before routing, so a flood is refused before it reaches the database. The user is
read from the bearer token's signature alone (no database); a bad token is left for the
route to refuse with 401. It also writes the `RateLimit` fields of every limit that counted
this request, including the ones services counted (login, sign-up, refresh).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.kit.client_address import UNKNOWN_ADDRESS, TrustedProxies
from pressroom.kit.errors import RateLimited
from pressroom.kit.ratelimit import QuotaState, RateLimits, rate_limit_headers, request_quotas
from pressroom.kit.responses import error_response


class RequestLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        limits: RateLimits,
        proxies: TrustedProxies,
        user_of_token: Callable[[str], int | None],
        exempt_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.limits = limits
        self.proxies = proxies
        self.user_of_token = user_of_token
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        quotas: dict[str, QuotaState] = {}
        reset = request_quotas.set(quotas)

        async def send_with_quotas(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in rate_limit_headers(quotas.values()).items():
                    headers[name] = value
            await send(message)

        try:
            policies = self.limits.policies
            try:
                address = self.proxies.client_of(scope) or UNKNOWN_ADDRESS
                await self.limits.hit(policies.per_address, address)
                user_id = self._user_id(scope)
                if user_id is not None:
                    await self.limits.hit(policies.per_user, str(user_id))
            except RateLimited as error:
                await error_response(error)(scope, receive, send_with_quotas)
                return
            await self.app(scope, receive, send_with_quotas)
        finally:
            request_quotas.reset(reset)

    def _user_id(self, scope: Scope) -> int | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return self.user_of_token(token.strip())
        return None
