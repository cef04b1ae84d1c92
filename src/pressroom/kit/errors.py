"""The one error hierarchy. Services raise these; each front door turns them into its own shape.

REST renders `{"error": {"code", "message", "details"}}` with `status`; GraphQL renders the same
classes as `UserError` payload entries. No service names an HTTP status anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FieldErrors = Mapping[str, Sequence[str]]


class AppError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    default_message: str = "An unexpected error occurred"

    def __init__(self, message: str | None = None, details: FieldErrors | None = None) -> None:
        self.message = message or self.default_message
        self.details: dict[str, list[str]] = {k: list(v) for k, v in (details or {}).items()}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status = 400
    code = "VALIDATION_ERROR"
    default_message = "Validation failed"

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        return cls(details={field: [message]})


class AuthenticationFailed(AppError):
    status = 401
    code = "AUTHENTICATION_ERROR"
    default_message = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "AUTHORIZATION_ERROR"
    default_message = "You do not have permission to do this"


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Resource not found"


class MethodNotAllowed(AppError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    default_message = "The request conflicts with the current state"


class IdempotencyKeyInUse(AppError):
    status = 409
    code = "IDEMPOTENCY_KEY_IN_USE"
    default_message = "A request with this Idempotency-Key is still being processed; retry later"


class PreconditionFailed(AppError):
    status = 412
    code = "PRECONDITION_FAILED"
    default_message = "The resource has changed since you read it; read it again"


class IdempotencyKeyReused(AppError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was used with a different request"


class PayloadTooLarge(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is too large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Request body must be application/json"


class Unprocessable(AppError):
    status = 422
    code = "UNPROCESSABLE_ENTITY"
    default_message = "The request cannot be carried out"


class RateLimited(AppError):
    status = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests; retry later"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)


class ServiceUnavailable(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A dependency is unavailable; retry later"

    def __init__(
        self,
        message: str | None = None,
        retry_after_seconds: int = 5,
        details: FieldErrors | None = None,
    ) -> None:
        super().__init__(message, details)
        self.retry_after_seconds = retry_after_seconds


def code_for_status(status: int) -> str:
    """The envelope code for a status the framework produced itself (404, 405, ...)."""
    for cls in (
        ValidationFailed,
        AuthenticationFailed,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        RateLimited,
        ServiceUnavailable,
    ):
        if cls.status == status:
            return cls.code
    return "VALIDATION_ERROR" if 400 <= status < 500 else "INTERNAL_ERROR"
