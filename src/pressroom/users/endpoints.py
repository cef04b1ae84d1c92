"""REST door to users: sign-up, profiles, account deletion, password and sessions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import Field

from pressroom.api.dependencies import ClientDep, ServicesDep, SignedInActor, UnitDep
from pressroom.auth.endpoints import NO_STORE
from pressroom.auth.schemas import SessionList, session_json
from pressroom.kit.bounds import ROLE_MAX_CHARS, SEARCH_MAX_CHARS, SORT_MAX_CHARS
from pressroom.kit.errors import ValidationFailed
from pressroom.kit.http_errors import validation_details
from pressroom.kit.ids import IdPath
from pressroom.kit.openapi import created, errors
from pressroom.kit.query import ListQuery, documented, query_string
from pressroom.kit.responses import JsonResponse
from pressroom.kit.routing import api_router
from pressroom.services import Services
from pressroom.users.schemas import (
    ChangePasswordRequest,
    CreateUserRequest,
    UpdateUserRequest,
    UserOut,
    UserPage,
)

router = api_router("/users", tags=["users"])


class _SignUpRoute(APIRoute):
    """Sign-up's route: a body that fails the model's rules is refused with the password rule's
    findings too (docs/api.md: every failing field in one answer). FastAPI refuses the body before
    the endpoint runs, and the password rule depends on the settings, so the model cannot hold
    it; the refusal is completed here, by the same service method GraphQL's uses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                failed = ValidationFailed(details=validation_details(error.errors()))
                body = error.body if isinstance(error.body, dict) else {}
                services: Services = request.app.state.services
                raise services.users.with_password_problems(failed, body.get("password")) from None

        return handle


async def sign_up(
    body: CreateUserRequest, services: ServicesDep, client: ClientDep, uow: UnitDep
) -> Response:
    view = await services.users.sign_up(uow, body, client=client)
    return JsonResponse(
        UserOut.of(view),
        status_code=201,
        headers={"Location": f"/api/v1/users/{view.user.id}"},
    )


router.add_api_route(
    "",
    sign_up,
    methods=["POST"],
    status_code=201,
    response_model=UserOut,
    responses=errors(409) | created("/api/v1/users/{user_id}"),
    operation_id="createUser",
    route_class_override=_SignUpRoute,
)


class UserListQuery(ListQuery):
    sort: str | None = Field(
        None, max_length=SORT_MAX_CHARS, description="created_at, last_name, email"
    )
    q: str | None = Field(None, max_length=SEARCH_MAX_CHARS)
    role: str | None = Field(None, max_length=ROLE_MAX_CHARS)


@router.get(
    "",
    response_model=UserPage,
    responses=errors(401, 403),
    operation_id="listUsers",
    openapi_extra=documented(UserListQuery),
)
async def list_users(
    query: Annotated[UserListQuery, query_string(UserListQuery)],
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    result = await services.users.list_users(
        uow, actor, query.page_request, sort=query.sort, search=query.q, role=query.role
    )
    return JsonResponse(UserPage([UserOut.of(v) for v in result.items], result.pagination()))


@router.get("/me", response_model=UserOut, responses=errors(401), operation_id="getCurrentUser")
async def current_user(actor: SignedInActor, services: ServicesDep, uow: UnitDep) -> Response:
    return JsonResponse(UserOut.of(await services.users.current(uow, actor)))


@router.post("/me/password", status_code=204, responses=errors(401), operation_id="changePassword")
async def change_password(
    body: ChangePasswordRequest, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.auth.change_password(uow, actor, body.current_password, body.new_password)
    return Response(status_code=204, headers=NO_STORE)


@router.get(
    "/me/sessions", response_model=SessionList, responses=errors(401), operation_id="listSessions"
)
async def my_sessions(actor: SignedInActor, services: ServicesDep, uow: UnitDep) -> Response:
    sessions = await services.auth.sessions(uow, actor)
    body = {"data": [session_json(s, actor.session_id) for s in sessions]}
    return JsonResponse(body, headers=NO_STORE)


@router.delete(
    "/me/sessions/{session_id}",
    status_code=204,
    responses=errors(401, 404),
    operation_id="deleteSession",
)
async def end_session(
    session_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.auth.end_session(uow, actor, session_id)
    return Response(status_code=204)


@router.get(
    "/{user_id:not_me}", response_model=UserOut, responses=errors(401, 404), operation_id="getUser"
)
async def get_user(
    user_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    return JsonResponse(UserOut.of(await services.users.get(uow, actor, user_id)))


@router.patch(
    "/{user_id:not_me}",
    response_model=UserOut,
    responses=errors(401, 403, 404, 409),
    operation_id="updateUser",
)
async def update_user(
    user_id: IdPath,
    body: UpdateUserRequest,
    actor: SignedInActor,
    services: ServicesDep,
    uow: UnitDep,
) -> Response:
    return JsonResponse(UserOut.of(await services.users.update(uow, actor, user_id, body)))


@router.delete(
    "/{user_id:not_me}",
    status_code=204,
    responses=errors(401, 403, 404, 409),
    operation_id="deleteUser",
)
async def delete_user(
    user_id: IdPath, actor: SignedInActor, services: ServicesDep, uow: UnitDep
) -> Response:
    await services.users.delete(uow, actor, user_id)
    return Response(status_code=204)
