"""The API's routers, and how they are put on the app: flat, one list of routes.

`include_router` has kept included routers as nodes since FastAPI 0.137, and every request
walks them route by route through scope bookkeeping: that was over a third of the CPU of a
request that does nothing (docs/performance.md; fastapi/fastapi#16159). The routers here carry
their full prefix, so their routes can sit on the app's own router exactly as written.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, get_type_hints

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

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


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _PathParameter:
    name: str
    alias: str
    adapter: TypeAdapter[Any]


@dataclass(frozen=True, slots=True)
class _Call:
    """One dependency (or the endpoint) as `DirectRoute` runs it."""

    function: Callable[..., Any]
    # A yielding dependency (the request's unit of work) is entered here and left when the
    # endpoint has returned or raised, before the response is sent: FastAPI's "function" scope.
    yields: bool
    request_name: str | None
    dependencies: tuple[tuple[str, _Call], ...]
    path: tuple[_PathParameter, ...]

    async def solve(
        self,
        request: Request,
        solved: dict[Any, Any],
        errors: list[Any],
        exits: AsyncExitStack,
    ) -> dict[str, Any]:
        """The arguments of this call, in FastAPI's order: each dependency first (one call per
        request however often it is named), then this call's own path parameters."""
        arguments: dict[str, Any] = {}
        for name, dependency in self.dependencies:
            if dependency.function in solved:
                arguments[name] = solved[dependency.function]
                continue
            found: list[Any] = []
            values = await dependency.solve(request, solved, found, exits)
            if found:
                errors.extend(found)
                continue
            if dependency.yields:
                entered = asynccontextmanager(dependency.function)(**values)
                value = await exits.enter_async_context(entered)
            else:
                value = await dependency.function(**values)
            arguments[name] = solved[dependency.function] = value
        for parameter in self.path:
            try:
                arguments[parameter.name] = parameter.adapter.validate_python(
                    request.path_params[parameter.alias]
                )
            except ValidationError as error:
                errors.extend(
                    {**e, "loc": ("path", parameter.alias, *e["loc"])}
                    for e in error.errors(include_url=False)
                )
        if self.request_name is not None:
            arguments[self.request_name] = request
        return arguments


def _plan(dependant: Dependant) -> _Call | None:
    """`dependant` as a `_Call`, or None where it uses what only FastAPI's solver handles:
    query, header, cookie or body parameters, plain-`def` functions, a yielding function that is
    not of the "function" scope, security scopes, an injected `Response` or `BackgroundTasks`,
    or a dependency that is not cached."""
    function = dependant.call
    yields = function is not None and inspect.isasyncgenfunction(function)
    if (
        function is None
        or not (inspect.iscoroutinefunction(function) or yields)
        or (yields and dependant.scope != "function")
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or not dependant.use_cache
    ):
        return None
    dependencies = []
    for sub in dependant.dependencies:
        planned = _plan(sub)
        if planned is None or sub.name is None:
            return None
        dependencies.append((sub.name, planned))
    path = tuple(
        _PathParameter(
            field.name,
            field.alias,
            TypeAdapter[Any](_annotated(field.field_info.annotation, field.field_info.metadata)),
        )
        for field in dependant.path_params
    )
    return _Call(function, yields, dependant.request_param_name, tuple(dependencies), path)


def _annotated(annotation: Any, metadata: list[Any]) -> Any:
    """`Annotated[annotation, *metadata]`: the path parameter's type with its constraints."""
    return Annotated[(annotation, *metadata)] if metadata else annotation


class DirectRoute(APIRoute):
    """A route whose endpoint returns a `Response` and whose dependencies take only the request,
    path parameters and other such dependencies (the actor, the services, a query-string model)
    is run by a small solver planned once, instead of FastAPI's `solve_dependencies`, which
    re-derives each dependency's nature, cache key and scopes on every request (FastAPI's own
    code was a fifth of the CPU of `GET /posts/{id}` in-process, docs/performance.md). Same
    order, same per-request cache, same validation errors (`RequestValidationError`, so the
    same envelope); any route using more than that is left to FastAPI entirely."""

    def get_route_handler(self) -> Handler:
        endpoint = self.dependant.call
        returns = get_type_hints(endpoint).get("return") if endpoint is not None else None
        planned = _plan(self.dependant)
        if (
            planned is None
            or planned.yields
            or self.body_field is not None
            or not (isinstance(returns, type) and issubclass(returns, Response))
        ):
            return super().get_route_handler()
        call = planned

        async def handle(request: Request) -> Response:
            errors: list[Any] = []
            async with AsyncExitStack() as exits:
                arguments = await call.solve(request, {}, errors, exits)
                if errors:
                    raise RequestValidationError(errors)
                response: Response = await call.function(**arguments)
            return response

        return handle


def api_router(prefix: str = "", *, tags: list[str | Enum]) -> APIRouter:
    return APIRouter(prefix=API_PREFIX + prefix, tags=tags, route_class=DirectRoute)


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
