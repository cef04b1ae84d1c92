"""The API's routers, and how they are put on the app: flat, one list of routes.

`include_router` has kept included routers as nodes since FastAPI 0.137, and every request
walks them route by route through scope bookkeeping: that was over a third of the CPU of a
request that does nothing (docs/performance.md; fastapi/fastapi#16159). The routers here carry
their full prefix, so their routes can sit on the app's own router exactly as written.
"""

from __future__ import annotations

import copy
from enum import Enum

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor

API_PREFIX = "/api/v1"


class _NotMe(Convertor[str]):
    """A path segment other than `me`: `/users/{user_id:not_me}` must leave `/users/me` to its
    own routes, or `PATCH /users/me` is read as a user id ("me" is not an integer: 400) and
    `/users/me` seems to allow every method `/users/{id}` does. Values are validated as ids by
    the endpoint, as before (`/users/abc` stays a 400)."""

    regex = "(?!me(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("not_me", _NotMe())


def api_router(prefix: str = "", *, tags: list[str | Enum]) -> APIRouter:
    return APIRouter(prefix=API_PREFIX + prefix, tags=tags)


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Each router's routes, in order, on the app itself, and a HEAD twin of each GET route.
    Routers given here hold routes only: a router included into one of them would be lost, so
    it is refused."""
    for router in routers:
        nested = [route for route in router.routes if not isinstance(route, APIRoute)]
        if nested:
            raise TypeError(f"add_routes takes routers of plain routes, not {nested}")
        for route in router.routes:
            app.router.routes.append(route)
            if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
                app.router.routes.append(_head_twin(route))


def _head_twin(route: APIRoute) -> APIRoute:
    """HEAD wherever GET (RFC 9110 §9.3.2): the GET route itself, answering HEAD, kept out of
    the OpenAPI document (one operation per path and method there). FastAPI's routes, unlike
    Starlette's, do not add HEAD themselves; the server sends the headers only."""
    twin = copy.copy(route)
    twin.methods = {"HEAD"}
    twin.include_in_schema = False
    return twin
