"""The OpenAPI document, shaped for client generators: typed pages, the error envelope of every
reply a route can give, bearer security per route, and names as clients should see them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

BEARER_SCHEME = "bearerAuth"
_SCHEMES = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `accessToken` of POST /api/v1/auth/login or /api/v1/auth/refresh",
    }
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="pressroom"',
            "schema": {"type": "string"},
        }
    },
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
_DESCRIPTIONS = {
    400: "Validation failed (VALIDATION_ERROR); `details` maps field paths to messages",
    401: "Missing, malformed, expired or revoked credentials (AUTHENTICATION_ERROR)",
    403: "Authenticated but not allowed (AUTHORIZATION_ERROR)",
    404: "No such resource, or one the caller may not see (NOT_FOUND)",
    409: "Conflicts with the current state (CONFLICT), or the request's Idempotency-Key is"
    " still in use by its first request (IDEMPOTENCY_KEY_IN_USE)",
    412: "If-Match names a version that is no longer current (PRECONDITION_FAILED)",
    413: "Request body too large (PAYLOAD_TOO_LARGE)",
    415: "Request body is not JSON (UNSUPPORTED_MEDIA_TYPE)",
    422: "Well-formed but impossible (UNPROCESSABLE_ENTITY), or the Idempotency-Key came with"
    " another request (IDEMPOTENCY_KEY_REUSED)",
    429: "Rate limited (RATE_LIMITED); see Retry-After",
    503: "A dependency is down (SERVICE_UNAVAILABLE); see Retry-After",
}
_ETAG = {
    "ETag": {
        "description": "The representation's strong entity tag; send it back as If-None-Match",
        "schema": {"type": "string"},
    }
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags the caller holds: if one is current the reply is 304, with no body",
    "schema": {"type": "string"},
}
_NOT_MODIFIED = "The representation is the one If-None-Match named (no body)"
# Response shapes are records (`PostRecord`) or `*Out` in code; clients see the resources as
# docs/api.md names them: `Post`, `User`, `Tag`.
_CODE_SUFFIXES = ("Record", "Out")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, list[str]] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` naming exactly these error replies, each in the envelope."""
    return {
        s: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[s], "headers": _HEADERS.get(s, {})}
        for s in sorted(statuses)
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an API route: the always-possible 400/429/503 plus the ones named."""
    return error_responses(400, 429, 503, *statuses)


def created(location: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry of a 201 whose `Location` names the new resource."""
    header = {"description": f"The new resource, {location}", "schema": {"type": "string"}}
    return {201: {"headers": {"Location": header}}}


def _envelope_response(status: int) -> dict[str, Any]:
    envelope = {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
    return {"description": _DESCRIPTIONS[status], "content": {"application/json": envelope}}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _security(route: APIRoute, signed_in: Callable[..., Any], optional: Callable[..., Any]) -> Any:
    calls = set(_calls(route.dependant))
    if signed_in in calls:
        return [{BEARER_SCHEME: []}]
    if optional in calls:
        # Anonymous callers are served; a token, when sent, must be good (else 401).
        return [{}, {BEARER_SCHEME: []}]
    return None


def without_null(schema: dict[str, Any]) -> None:
    """The schema of a value that may be left out but is never null."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return
    rest = [o for o in options if o != {"type": "null"}]
    del schema["anyOf"]
    if len(rest) == 1:
        schema.update(rest[0])
    else:
        schema["anyOf"] = rest
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def document_nulls(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """`json_schema_extra` of input models: a field takes null only if the model's `nullable`
    names it (kit/validation.py refuses the rest), so typed clients never offer a null the
    server answers with 400. Omitting the field is how a PATCH leaves it alone."""
    nullable: frozenset[str] = getattr(model, "nullable", frozenset())
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        if name not in nullable and (field.alias or name) in properties:
            without_null(properties[field.alias or name])


def _rename(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        renamed = {k: _rename(v, names) for k, v in node.items()}
        ref = renamed.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            old = ref.rsplit("/", 1)[1]
            renamed["$ref"] = "#/components/schemas/" + names.get(old, old)
        return renamed
    if isinstance(node, list):
        return [_rename(v, names) for v in node]
    return node


def _client_names(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema["components"]["schemas"]
    names = {}
    for name in components:
        for suffix in _CODE_SUFFIXES:
            client_name = name.removesuffix(suffix)
            if name.endswith(suffix) and client_name not in components:
                names[name] = client_name
    schema = _rename(schema, names)
    schema["components"]["schemas"] = {
        names.get(name, name): body for name, body in schema["components"]["schemas"].items()
    }
    for new in names.values():
        schema["components"]["schemas"][new]["title"] = new
    return schema


def _tidy_operation(operation: dict[str, Any]) -> None:
    responses = operation.get("responses", {})
    # FastAPI documents its own 422 for every validated route; Pressroom answers those with 400.
    if "422" in responses and "UNPROCESSABLE" not in str(responses["422"].get("description", "")):
        del responses["422"]
    if "requestBody" in operation:
        # The body guard answers these before any route runs.
        for status in (413, 415):
            responses.setdefault(str(status), _envelope_response(status))
    for parameter in operation.get("parameters", []):
        # A query string cannot send null: an absent parameter takes its default.
        if parameter.get("in") == "query":
            without_null(parameter.get("schema", {}))


def _document_revalidation(operation: dict[str, Any]) -> None:
    """A GET the conditional middleware serves (kit/http_caching.py): every 200 carries an ETag,
    and `If-None-Match` naming it is answered 304 with no body. Declared, so clients and the
    fuzzer send it too."""
    operation.setdefault("parameters", []).append(_IF_NONE_MATCH)
    responses = operation.setdefault("responses", {})
    if "200" in responses:
        responses["200"].setdefault("headers", {}).update(_ETAG)
    responses["304"] = {"description": _NOT_MODIFIED, "headers": _ETAG}


def install_openapi(
    app: FastAPI,
    *,
    signed_in: Callable[..., Any],
    optional: Callable[..., Any],
    conditional_prefix: str = "/api/",
) -> None:
    """`signed_in` and `optional` are the dependencies that read the bearer token: a route that
    depends on the first requires one, on the second accepts one. GETs under `conditional_prefix`
    answer `If-None-Match` (kit/http_caching.py)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            security = _security(route, signed_in, optional)
            for method in route.methods or ():
                operation = schema["paths"][route.path_format].get(method.lower())
                if operation is not None and security is not None:
                    operation["security"] = security
        for path, path_item in schema.get("paths", {}).items():
            for method, operation in path_item.items():
                if isinstance(operation, dict):
                    _tidy_operation(operation)
                    if method == "get" and path.startswith(conditional_prefix):
                        _document_revalidation(operation)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})
        components["schemas"].pop("HTTPValidationError", None)
        components["schemas"].pop("ValidationError", None)
        components["securitySchemes"] = _SCHEMES
        app.openapi_schema = _client_names(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
