"""What every resolver of one request sees: the services, the actor, the request's loaders."""

from __future__ import annotations

from fastapi import Request, Response
from strawberry.fastapi import BaseContext

from pressroom.auth.actor import ANONYMOUS, Actor
from pressroom.auth.dependencies import client_info, resolve_actor
from pressroom.auth.service import ClientInfo
from pressroom.graphql.loaders import Loaders
from pressroom.kit.errors import AuthenticationFailed
from pressroom.kit.responses import error_headers
from pressroom.services import Services


class Context(BaseContext):
    def __init__(
        self,
        services: Services,
        actor: Actor,
        client: ClientInfo,
        auth_error: AuthenticationFailed | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.actor = actor
        self.client = client
        # A bad or ended token refuses the whole operation (see limits.RefuseBadCredentials),
        # as it refuses every REST route: never silently anonymous.
        self.auth_error = auth_error
        self.loaders = Loaders(services, actor)


async def get_context(request: Request, response: Response) -> Context:
    services: Services = request.app.state.services
    try:
        actor = await resolve_actor(request, services)
    except AuthenticationFailed as error:
        response.status_code = error.status
        response.headers.update(error_headers(error))
        return Context(services, ANONYMOUS, client_info(request), auth_error=error)
    return Context(services, actor, client_info(request))
