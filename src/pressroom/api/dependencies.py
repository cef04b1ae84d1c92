"""FastAPI dependencies: the services of this app, the request's unit of work, and the actor
behind the request.

Door-level glue: it reads the composition root (`pressroom.services`), so it sits above every
domain, not inside auth (auth's service is one of the services it hands out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from pressroom.auth.actor import ANONYMOUS, Actor
from pressroom.db.units import UnitOfWork
from pressroom.kit.client_address import ClientInfo
from pressroom.kit.errors import AuthenticationFailed
from pressroom.kit.observability import user_id_var
from pressroom.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` dependency
# in a worker thread, a hand-off that cost more than the whole function (docs/performance.md).
async def services_dependency(request: Request) -> Services:
    return get_services(request)


ServicesDep = Annotated[Services, Depends(services_dependency)]


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work (db/units.py), closed as soon as the endpoint has returned
    (or raised), before the response is sent: its connection goes back to the pool first."""
    uow = UnitOfWork(get_services(request).db)
    try:
        yield uow
    finally:
        await uow.close()


# One `Depends` object for every route and for GraphQL's context: FastAPI caches a dependency
# per request by its function, so the actor's check and the endpoint get the same unit.
UnitDep = Annotated[UnitOfWork, Depends(unit_of_work, scope="function")]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header. Tokens in the query string are ignored."""
    values = request.headers.getlist("authorization")
    if not values:
        return None
    # Two credentials in one request cannot both be believed; refuse rather than pick one.
    if len(values) > 1:
        raise AuthenticationFailed("Send one Authorization header")
    header = values[0]
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthenticationFailed("Authorization header must be 'Bearer <token>'")
    return token


async def resolve_actor(request: Request, services: Services, uow: UnitOfWork) -> Actor:
    """Anonymous without credentials; a bad or ended token is a 401, even on public routes."""
    token = bearer_token(request)
    if token is None:
        return ANONYMOUS
    actor = await services.auth.authenticate(uow, token)
    user_id_var.set(actor.user_id)
    return actor


async def get_actor(request: Request, services: ServicesDep, uow: UnitDep) -> Actor:
    return await resolve_actor(request, services, uow)


async def get_signed_in_actor(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
    actor.require_user_id()
    return actor


def client_info(request: Request) -> ClientInfo:
    """The caller's address (through `TRUSTED_PROXIES` only) and user agent."""
    services = get_services(request)
    return ClientInfo(
        ip=services.proxies.client_of(request.scope),
        user_agent=request.headers.get("user-agent"),
    )


async def client_dependency(request: Request) -> ClientInfo:
    return client_info(request)


ActorDep = Annotated[Actor, Depends(get_actor)]
SignedInActor = Annotated[Actor, Depends(get_signed_in_actor)]
ClientDep = Annotated[ClientInfo, Depends(client_dependency)]
