"""create_app(settings): middleware, routers, error handlers, one service layer."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pressroom import __version__
from pressroom.accounts import endpoints as account_endpoints
from pressroom.api.dependencies import get_actor, get_signed_in_actor
from pressroom.auth import endpoints as auth_endpoints
from pressroom.config import Settings
from pressroom.graphql.ide import install_graphiql_assets
from pressroom.graphql.schema import graphql_router
from pressroom.jobs.worker import Worker
from pressroom.kit.body_guard import BodyGuardMiddleware
from pressroom.kit.docs import DOCS_PATH, install_docs
from pressroom.kit.http_caching import HttpCachingMiddleware
from pressroom.kit.http_errors import install_error_handlers
from pressroom.kit.observability import configure_logging
from pressroom.kit.openapi import install_openapi
from pressroom.kit.request_context import RequestContextMiddleware
from pressroom.kit.request_limits import RequestLimitMiddleware
from pressroom.kit.routing import API_PREFIX, add_routes
from pressroom.kit.security_headers import CorsMiddleware, SecurityHeadersMiddleware
from pressroom.operations import router as operations_router
from pressroom.posts import endpoints as post_endpoints
from pressroom.services import Services
from pressroom.tags import endpoints as tag_endpoints
from pressroom.users import endpoints as user_endpoints
from pressroom.webhooks import endpoints as webhook_endpoints

# Probes and scrapes are not limited: a load balancer must see an instance as it is.
UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics")


class ConfigurationError(RuntimeError):
    """The settings are unsafe or incomplete; the message says what to change."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("refusing to start in production mode: " + "; ".join(problems))
    configure_logging(settings.log_level)
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What start-up built lives as long as the process. Frozen, the garbage collector stops
        # walking it: a full collection of these ~150,000 objects paused a worker for ~100 ms,
        # a spike in any latency percentile it lands in (docs/performance.md).
        gc.collect()
        gc.freeze()
        # The embedded default needs no other process: mail and webhook deliveries go out from
        # here (docs/operations.md).
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(Worker(services).run(stop))
            if settings.runs_worker_in_process
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await services.close()

    app = FastAPI(
        title="Pressroom",
        version=__version__,
        description="Users, sign-in, roles, posts and tags. Errors use one envelope: "
        '`{"error": {"code", "message", "details"}}`.',
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    install_openapi(
        app,
        signed_in=get_signed_in_actor,
        optional=get_actor,
        conditional_prefix=API_PREFIX + "/",
    )
    if settings.show_docs:
        install_docs(app)
        install_graphiql_assets(app)

    # Flat, the most requested routes first (kit/routing.py says why not `include_router`).
    add_routes(
        app,
        post_endpoints.router,
        user_endpoints.router,
        auth_endpoints.router,
        account_endpoints.router,
        account_endpoints.me_router,
        tag_endpoints.router,
        post_endpoints.tag_posts_router,
        webhook_endpoints.router,
        operations_router,
    )
    app.include_router(graphql_router(settings), prefix="/graphql", include_in_schema=False)

    # Added last runs first: request ids wrap everything, so even a 413 or a 429 carries one.
    # A reply served from the cache never reaches a route, so it opens no unit of work.
    app.add_middleware(HttpCachingMiddleware, prefix=API_PREFIX + "/", cache=services.hot_reads)
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        json_only_prefix=API_PREFIX + "/",
    )
    if settings.rate_limits_enabled:
        app.add_middleware(
            RequestLimitMiddleware,
            limits=services.limits,
            proxies=services.proxies,
            user_of_token=services.auth.user_of_token,
            exempt_paths=UNLIMITED_PATHS,
        )
    if settings.cors_allow_origins:
        app.add_middleware(CorsMiddleware, allow_origins=settings.cors_allow_origins)
    app.add_middleware(SecurityHeadersMiddleware, page_paths=(DOCS_PATH,), router=app.router)
    app.add_middleware(RequestContextMiddleware, metrics=services.metrics, proxies=services.proxies)
    return app
