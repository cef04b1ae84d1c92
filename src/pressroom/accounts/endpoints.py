"""REST door to accounts by email: verification, password reset, email change."""

from __future__ import annotations

from fastapi import Response

from pressroom.accounts.schemas import (
    EMAIL_CHANGE_QUEUED,
    RESET_QUEUED,
    VERIFICATION_QUEUED,
    Accepted,
    EmailChangeRequest,
    PasswordResetConfirmation,
    PasswordResetRequest,
    TokenRequest,
)
from pressroom.api.dependencies import ClientDep, ServicesDep, SignedInActor, UnitDep
from pressroom.kit.openapi import errors
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import api_router

router = api_router("/auth", tags=["accounts"])
me_router = api_router("/users", tags=["accounts"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _accepted(message: str) -> Response:
    return JsonResponse({"message": message}, status_code=202, headers=NO_STORE)


@router.post(
    "/email-verification",
    status_code=202,
    response_model=Accepted,
    responses=errors(401, 409),
    operation_id="requestEmailVerification",
)
async def request_email_verification(
    actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.accounts.request_verification(uow, actor)
    return _accepted(VERIFICATION_QUEUED)


@router.post("/verify-email", status_code=204, responses=errors(), operation_id="verifyEmail")
async def verify_email(body: TokenRequest, services: ServicesDep, uow: UnitDep) -> Response:
    await services.accounts.verify_email(uow, body.token)
    return Response(status_code=204, headers=NO_STORE)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=Accepted,
    responses=errors(),
    operation_id="requestPasswordReset",
)
async def request_password_reset(
    body: PasswordResetRequest, services: ServicesDep, client: ClientDep, uow: UnitDep
) -> Response:
    await services.accounts.request_password_reset(uow, body.email, client)
    return _accepted(RESET_QUEUED)


@router.post(
    "/password-reset/confirm", status_code=204, responses=errors(), operation_id="resetPassword"
)
async def reset_password(
    body: PasswordResetConfirmation, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.accounts.reset_password(uow, body.token, body.new_password)
    return Response(status_code=204, headers=NO_STORE)


@router.post(
    "/email-change/confirm",
    status_code=204,
    responses=errors(409),
    operation_id="confirmEmailChange",
)
async def confirm_email_change(body: TokenRequest, services: ServicesDep, uow: UnitDep) -> Response:
    await services.accounts.confirm_email_change(uow, body.token)
    return Response(status_code=204, headers=NO_STORE)


@me_router.post(
    "/me/email",
    status_code=202,
    response_model=Accepted,
    responses=errors(401, 409),
    operation_id="requestEmailChange",
)
async def request_email_change(
    body: EmailChangeRequest, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.accounts.request_email_change(uow, actor, body.new_email, body.current_password)
    return _accepted(EMAIL_CHANGE_QUEUED)
