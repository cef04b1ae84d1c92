"""Turns every failure, ours or the framework's, into the one error envelope of docs/api.md."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from pressroom.kit.errors import (
    AppError,
    Conflict,
    ServiceUnavailable,
    ValidationFailed,
    code_for_status,
)
from pressroom.kit.observability import record_refusal
from pressroom.kit.responses import JsonResponse, error_body, error_response

_FRAMEWORK_MESSAGES = {
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request body is too large",
    415: "Request body must be application/json",
}
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "profile", "firstName")` → `profile.firstName`; a whole-body error → `body`."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        origin = parts.pop(0)
        if not parts or (origin == "body" and all(isinstance(p, int) for p in parts)):
            return "body"
    return ".".join(str(p) for p in parts) or "body"


def validation_details(errors: list[dict[str, Any]] | Any) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in errors:
        kind = error.get("type", "")
        if kind == "json_invalid":
            details.setdefault("body", []).append("Malformed JSON")
            continue
        message = str(error.get("msg", "Invalid value")).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "Unknown field"
        details.setdefault(field_path(error.get("loc", ())), []).append(message)
    return details


async def _app_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    record_refusal(exc)
    return error_response(exc)


async def _request_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(ValidationFailed(details=validation_details(exc.errors())))


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (RFC 9110 §15.5.6). The router names only
    the methods of the first route that matched the path, and each method is its own route."""
    allowed = []
    for method in _METHODS:
        # A fresh "fastapi" entry: FastAPI keeps its matching state there.
        probe = {**request.scope, "method": method, "fastapi": {}}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _framework_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = _FRAMEWORK_MESSAGES.get(status) or (
        exc.detail if isinstance(exc.detail, str) and status < 500 else "Request failed"
    )
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    body = error_body(code_for_status(status), message)
    return JsonResponse(body, status_code=status, headers=headers)


def database_failure(exc: BaseException) -> AppError | None:
    """The refusal a database (or connection) failure stands for, in REST and GraphQL alike;
    None for a failure that is a bug."""
    # Integrity errors the repositories did not anticipate are still races between writers:
    # the request lost, nothing was written, and the client may retry.
    if isinstance(exc, sa_exc.IntegrityError):
        return Conflict()
    if isinstance(exc, sa_exc.DataError) or _sqlstate(exc).startswith(_DATA_EXCEPTION):
        return ValidationFailed("A value is out of range or malformed")
    if isinstance(exc, sa_exc.DBAPIError) and not _is_connection_failure(exc):
        return None
    # Pool exhaustion and refused connections: the dependency is down or saturated.
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | OSError):
        return ServiceUnavailable("The database is unavailable; retry later")
    return None


async def _database_error(_request: Request, exc: Exception) -> Response:
    error = database_failure(exc)
    if error is None:
        raise exc
    return error_response(error)


# SQLSTATE class 22, "data exception": the value sent cannot be stored or compared, such as
# a NUL character in a PostgreSQL text parameter (22021). The asyncpg dialect raises these as
# a plain DBAPIError, not as DataError, so the class is read from the driver's error.
_DATA_EXCEPTION = "22"


def _sqlstate(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else ""


def _is_connection_failure(exc: sa_exc.DBAPIError) -> bool:
    return exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    )


async def _unavailable(_request: Request, _exc: Exception) -> Response:
    return error_response(ServiceUnavailable("The database is unavailable; retry later"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _framework_http)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    # Pool exhaustion and refused connections: the dependency is down or saturated.
    app.add_exception_handler(sa_exc.TimeoutError, _unavailable)
    app.add_exception_handler(OSError, _unavailable)
