"""What every resolver of one request sees: the services, the actor, the request's loaders."""

from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext

from pressroom.auth.actor import Actor
from pressroom.auth.dependencies import client_info, resolve_actor
from pressroom.auth.service import ClientInfo
from pressroom.graphql.loaders import Loaders
from pressroom.services import Services


class Context(BaseContext):
    def __init__(self, services: Services, actor: Actor, client: ClientInfo) -> None:
        super().__init__()
        self.services = services
        self.actor = actor
        self.client = client
        self.loaders = Loaders(services, actor)


async def get_context(request: Request) -> Context:
    """The actor as REST resolves it. A bad or ended token is never silently anonymous: it
    raises here, before any parsing, and the app answers 401 with the error envelope and
    `WWW-Authenticate`, as on every REST route."""
    services: Services = request.app.state.services
    actor = await resolve_actor(request, services)
    return Context(services, actor, client_info(request))
