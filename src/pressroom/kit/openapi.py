"""OpenAPI helpers: every route documents the envelope for each error it can answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Validation failed (VALIDATION_ERROR); `details` maps field paths to messages",
    401: "Missing, malformed, expired or revoked credentials (AUTHENTICATION_ERROR)",
    403: "Authenticated but not allowed (AUTHORIZATION_ERROR)",
    404: "No such resource, or one the caller may not see (NOT_FOUND)",
    409: "Conflicts with the current state (CONFLICT)",
    413: "Request body too large (PAYLOAD_TOO_LARGE)",
    415: "Request body is not JSON (UNSUPPORTED_MEDIA_TYPE)",
    422: "Well-formed but impossible (UNPROCESSABLE_ENTITY)",
    429: "Rate limited (RATE_LIMITED); see Retry-After",
    503: "A dependency is down (SERVICE_UNAVAILABLE); see Retry-After",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, list[str]] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the always-possible 400/429/503 plus the ones named."""
    every = sorted({400, 429, 503, *statuses})
    return {s: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[s]} for s in every}


def _envelope_response(status: int) -> dict[str, Any]:
    envelope = {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
    return {"description": _DESCRIPTIONS[status], "content": {"application/json": envelope}}


def install_openapi(app: FastAPI) -> None:
    """FastAPI documents a 422 for every validated route; Pressroom answers those with 400."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict):
                    responses = operation.get("responses", {})
                    if "422" in responses and "UNPROCESSABLE" not in str(
                        responses["422"].get("description", "")
                    ):
                        del responses["422"]
                    if "requestBody" in operation:
                        # The body guard answers these before any route runs.
                        for status in (413, 415):
                            responses.setdefault(str(status), _envelope_response(status))
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
