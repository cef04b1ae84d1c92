"""The API's routers, and how they are put on the app: flat, one list of routes.

`include_router` has kept included routers as nodes since FastAPI 0.137, and every request
walks them route by route through scope bookkeeping: that was over a third of the CPU of a
request that does nothing (docs/performance.md; fastapi/fastapi#16159). The routers here carry
their full prefix, so their routes can sit on the app's own router exactly as written.
"""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

API_PREFIX = "/api/v1"


def api_router(prefix: str = "", *, tags: list[str | Enum]) -> APIRouter:
    return APIRouter(prefix=API_PREFIX + prefix, tags=tags)


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Each router's routes, in order, on the app itself. Routers given here hold routes only:
    a router included into one of them would be lost, so it is refused."""
    for router in routers:
        nested = [route for route in router.routes if not isinstance(route, APIRoute)]
        if nested:
            raise TypeError(f"add_routes takes routers of plain routes, not {nested}")
        app.router.routes.extend(router.routes)
