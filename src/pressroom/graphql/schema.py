"""The schema, its limits and the `/graphql` router."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import orjson
import strawberry
from cross_web import HTTPException as TransportError
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from pressroom.config import Settings
from pressroom.graphql.context import Context, get_context
from pressroom.graphql.errors import http_refusal, refusal_response
from pressroom.graphql.ide import graphiql_page, wants_graphiql
from pressroom.graphql.limits import (
    OperationLimits,
    is_unexpected,
    log,
    requested_operation,
    validation_rules,
)
from pressroom.graphql.resolvers import Mutation, Query
from pressroom.kit.clock import rfc3339

SDL_FILE = Path(__file__).with_name("schema.graphql")
# Parsed and validated documents, shared by every request (bounded: query texts are untrusted).
DOCUMENT_CACHE_SIZE = 256


def _parse_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp needs a time zone")
    return parsed


DATETIME = strawberry.scalar(
    name="DateTime",
    description="RFC 3339 timestamp in UTC with a Z, e.g. 2026-01-31T09:30:00.000000Z",
    serialize=rfc3339,
    parse_value=_parse_datetime,
)


class PressroomSchema(strawberry.Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # Kept for OperationLimits, which refuses a document of several operations that names
        # none; Strawberry hands its extensions only the first operation's name then.
        token = requested_operation.set(operation_name)
        try:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        finally:
            requested_operation.reset(token)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals are answers, not incidents; only what OperationLimits masks is logged, in full.
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "graphql_unexpected_error",
                    path=error.path,
                    exc_info=error.original_error,
                )


def build_schema(settings: Settings) -> strawberry.Schema:
    rules = validation_rules(settings)
    schema = PressroomSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            scalar_map={datetime: DATETIME},
            # Suggestions ("did you mean ...?") would spell out a schema kept private.
            disable_field_suggestions=not settings.allow_introspection,
        ),
        extensions=[
            # Before the parser cache: the byte budget is checked before any parsing.
            lambda: OperationLimits(
                max_bytes=settings.graphql_max_query_bytes,
                max_tokens=settings.graphql_max_tokens,
                max_cost=settings.graphql_max_cost,
                rules=rules,
            ),
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        ],
    )
    return schema


def sdl() -> str:
    """The schema in SDL, as committed in `schema.graphql`."""
    return build_schema(Settings(graphql_introspection=True)).as_str() + "\n"


class PressroomGraphQLRouter(GraphQLRouter[Any, None]):
    """Transport refusals (a mutation over GET, a body that is not JSON, a wrong method) answer
    with the error envelope of every other route, not Strawberry's plain-text replies."""

    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        if isinstance(context, Context) and context.refusal is not None:
            return refusal_response(context.refusal)
        try:
            return await super().run(request, context, root_value)
        except TransportError as error:
            raise StarletteHTTPException(error.status_code, detail=error.reason) from None

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        # An outage or a spent allowance refuses the request as REST does (503 / 429 with
        # Retry-After, set where the refusal was met), the GraphQL errors kept alongside.
        refusal = http_refusal(response_data)
        if refusal is not None and isinstance(response_data, dict):
            sub_response.status_code, envelope = refusal
            response_data = cast(GraphQLHTTPResponse, envelope | response_data)
        return super().create_response(response_data, sub_response)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Only for browsers (Accept: text/html); Strawberry would also show it to `*/*` (curl).
        return wants_graphiql(request.method, request.query_params, request.headers)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page("Pressroom GraphiQL")

    def encode_json(self, data: object) -> bytes:
        # As every REST response (kit.responses): orjson, not the standard library's encoder,
        # which cost 0.3 ms of a 20-post list. Same JSON; non-ASCII text is sent as UTF-8.
        return orjson.dumps(data)


def graphql_router(settings: Settings) -> GraphQLRouter[Any, None]:
    return PressroomGraphQLRouter(
        build_schema(settings),
        context_getter=get_context,
        subscription_protocols=(),
        # Where /docs is served; elsewhere a browser's GET /graphql is a 404 (graphql/ide.py).
        graphql_ide="graphiql" if settings.show_docs else None,
        allow_queries_via_get=True,
    )
