"""JSON responses: a resource's `@output` shape or plain JSON data, rendered by `json_bytes`
(kit/output.py) without re-validation."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pressroom.kit.errors import AppError, RateLimited, ServiceUnavailable
from pressroom.kit.output import json_bytes


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def error_body(
    code: str, message: str, details: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_headers(error: AppError) -> dict[str, str]:
    # An error answers this request at this moment; a failed login must not sit in a cache
    # (docs/api.md: auth responses carry no-store; RFC 6749 §5.2 asks it of token errors too).
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pressroom"'
    if isinstance(error, RateLimited | ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return headers


def error_response(error: AppError) -> JsonResponse:
    return JsonResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status,
        headers=error_headers(error),
    )
