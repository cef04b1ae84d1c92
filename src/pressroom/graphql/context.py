"""What every resolver of one request sees: the services, the request's unit of work, the actor,
the request's loaders."""

from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext

from pressroom.api.dependencies import UnitDep, client_info, resolve_actor
from pressroom.auth.actor import ANONYMOUS, Actor
from pressroom.db.units import UnitOfWork
from pressroom.graphql.loaders import Loaders
from pressroom.kit.client_address import ClientInfo
from pressroom.kit.errors import AppError
from pressroom.kit.http_errors import database_failure
from pressroom.services import Services


class Context(BaseContext):
    def __init__(
        self,
        services: Services,
        uow: UnitOfWork,
        actor: Actor,
        client: ClientInfo,
        refusal: AppError | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        # Opened and closed by the `UnitDep` dependency around the request, like REST's.
        self.uow = uow
        self.actor = actor
        self.client = client
        self.loaders = Loaders(services, uow, actor)
        # Set when the credentials were refused (or could not be checked): the router answers
        # it and runs nothing.
        self.refusal = refusal
        # Whether a post's `author` asks for more than the post knows, by place in the answer
        # (see graphql/types.py): the same for every post of one list.
        self.author_shapes: dict[tuple[str, ...], bool] = {}


async def get_context(request: Request, uow: UnitDep) -> Context:
    """The actor as REST resolves it. A bad or ended token is never silently anonymous: the
    refusal is kept, and the router answers it (401 with `WWW-Authenticate`, or 503 when the
    session store is down) before any parsing, in a body GraphQL clients can read."""
    services: Services = request.app.state.services
    client = client_info(request)
    try:
        actor = await resolve_actor(request, services, uow)
    except AppError as error:
        return Context(services, uow, ANONYMOUS, client, refusal=error)
    except Exception as error:
        refusal = database_failure(error)
        if refusal is None:
            raise
        return Context(services, uow, ANONYMOUS, client, refusal=refusal)
    return Context(services, uow, actor, client)
