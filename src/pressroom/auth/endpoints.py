"""REST door to sign-in: /auth/login, /auth/refresh, /auth/logout, /auth/logout-all."""

from __future__ import annotations

from fastapi import Response

from pressroom.api.dependencies import ClientDep, ServicesDep, SignedInActor, UnitDep
from pressroom.auth.schemas import LoginRequest, RefreshRequest, TokenPairOut, token_pair_json
from pressroom.kit.openapi import errors
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import api_router

router = api_router("/auth", tags=["auth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/login", response_model=TokenPairOut, responses=errors(401), operation_id="login")
async def login(
    body: LoginRequest, services: ServicesDep, client: ClientDep, uow: UnitDep
) -> Response:
    pair = await services.auth.login(uow, body.email, body.password, client)
    return JsonResponse(token_pair_json(pair), headers=NO_STORE)


@router.post(
    "/refresh", response_model=TokenPairOut, responses=errors(401), operation_id="refreshToken"
)
async def refresh(
    body: RefreshRequest, services: ServicesDep, client: ClientDep, uow: UnitDep
) -> Response:
    pair = await services.auth.refresh(uow, body.refresh_token, client)
    return JsonResponse(token_pair_json(pair), headers=NO_STORE)


@router.post("/logout", status_code=204, responses=errors(401), operation_id="logout")
async def logout(body: RefreshRequest, services: ServicesDep, uow: UnitDep) -> Response:
    await services.auth.logout(uow, body.refresh_token)
    return Response(status_code=204, headers=NO_STORE)


@router.post("/logout-all", status_code=204, responses=errors(401), operation_id="logoutAll")
async def logout_all(actor: SignedInActor, services: ServicesDep, uow: UnitDep) -> Response:
    await services.auth.logout_all(uow, actor)
    return Response(status_code=204, headers=NO_STORE)
