"""How the one error hierarchy (kit.errors) reaches GraphQL clients.

Mutations answer refusals in their payload, `errors: [UserError!]`, one entry per field and
message with the REST error code; queries answer null for NotFound and a GraphQL error with
`extensions.code` for anything else. Errors that are not ours are masked (limits.OperationLimits).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.responses import Response

from pressroom.kit.errors import AppError, NotFound, RateLimited, ServiceUnavailable
from pressroom.kit.observability import record_refusal
from pressroom.kit.responses import JsonResponse, error_body, error_headers

T = TypeVar("T")


@strawberry.type(description="Why a mutation was refused: the REST error code, by input field.")
class UserError:
    field: str | None = strawberry.field(
        description="Dotted path of the input field (`profile.firstName`), null for the whole"
    )
    message: str
    code: str = strawberry.field(description="The REST error code, e.g. VALIDATION_ERROR")


class PublicError(GraphQLError):
    """An error whose message is meant for the client: never masked."""

    def __init__(
        self,
        message: str,
        code: str,
        details: dict[str, list[str]] | None = None,
        **more: object,
    ):
        extensions: dict[str, object] = {"code": code}
        if details:
            extensions["details"] = details
        super().__init__(message, extensions=extensions | more)


def public_error(error: AppError) -> PublicError:
    return PublicError(error.message, error.code, error.details)


def user_errors(error: AppError) -> list[UserError]:
    """`{field, message, code}` entries: one per field message, or one without a field."""
    if not error.details:
        return [UserError(field=None, message=error.message, code=error.code)]
    return [
        UserError(field=field, message=message, code=error.code)
        for field, messages in error.details.items()
        for message in messages
    ]


def report_refusal(error: AppError, response: Response | None) -> None:
    """As REST does: a 403 is logged as a security event, and rate limits and outages tell
    the client when to come back."""
    record_refusal(error)
    if response is not None and isinstance(error, RateLimited | ServiceUnavailable):
        response.headers.update(error_headers(error))


async def answer(work: Awaitable[T], response: Response | None = None) -> T:
    """A query field: service refusals become GraphQL errors carrying their code."""
    try:
        return await work
    except AppError as error:
        report_refusal(error, response)
        raise public_error(error) from None


async def answer_or_null(work: Awaitable[T], response: Response | None = None) -> T | None:
    """A nullable query field: what does not exist (or may not be known to exist) is null."""
    try:
        return await work
    except NotFound:
        return None
    except AppError as error:
        report_refusal(error, response)
        raise public_error(error) from None


async def attempt(
    work: Awaitable[T], response: Response | None = None
) -> tuple[T | None, list[UserError]]:
    """A mutation: the result and no errors, or no result and the refusal as UserErrors."""
    try:
        return await work, []
    except AppError as error:
        report_refusal(error, response)
        return None, user_errors(error)


# Refusals of the whole request, answered with their HTTP status rather than 200: by code,
# the error class that knows the status and headers.
HTTP_REFUSALS: dict[str, type[AppError]] = {
    ServiceUnavailable.code: ServiceUnavailable,
    RateLimited.code: RateLimited,
}


def graphql_error(error: AppError) -> dict[str, Any]:
    """One entry of a GraphQL response's `errors`, as the schema's own errors are shaped."""
    return {"message": error.message, "extensions": public_error(error).extensions}


def refusal_response(error: AppError) -> JsonResponse:
    """A request refused before any operation ran (bad credentials, a dependency down), in
    both shapes: the error envelope every non-2xx response carries, and a GraphQL `errors`
    list. Standard clients (gql, Apollo) read `errors` whatever the status; without it they
    report only "401 Unauthorized" and drop the message."""
    record_refusal(error)
    body = error_body(error.code, error.message, error.details)
    body["errors"] = [graphql_error(error)]
    return JsonResponse(body, status_code=error.status, headers=error_headers(error))


def http_refusal(response_data: object) -> tuple[int, dict[str, Any]] | None:
    """The status and error envelope of an answer whose top-level errors refuse the whole
    request (a database outage: 503; a spent allowance: 429), None for any other answer."""
    if not isinstance(response_data, dict):
        return None
    for entry in response_data.get("errors") or ():
        code = (entry.get("extensions") or {}).get("code")
        refusal = HTTP_REFUSALS.get(code) if isinstance(code, str) else None
        if refusal is not None:
            return refusal.status, error_body(refusal.code, entry.get("message") or "")
    return None
