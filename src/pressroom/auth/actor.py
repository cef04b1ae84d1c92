"""Who is asking: the authenticated principal, or anonymous. Every service method takes one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.auth.permissions import Permission, permissions_for
from pressroom.kit.errors import AuthenticationFailed, Forbidden
from pressroom.users.repository import UserRepository

SESSION_ENDED = "Session has ended; sign in again"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None = None
    session_id: int | None = None
    email: str | None = None
    roles: tuple[str, ...] = ()
    permissions: frozenset[Permission] = frozenset()

    @classmethod
    def signed_in(cls, user_id: int, session_id: int, email: str, roles: tuple[str, ...]) -> Actor:
        return cls(user_id, session_id, email, roles, permissions_for(roles))

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def is_user(self, user_id: int) -> bool:
        return self.user_id is not None and self.user_id == user_id

    def require_user_id(self) -> int:
        if self.user_id is None:
            raise AuthenticationFailed()
        return self.user_id

    def require(self, permission: Permission) -> int:
        user_id = self.require_user_id()
        if not self.can(permission):
            raise Forbidden()
        return user_id


ANONYMOUS = Actor()


async def require_live_account(conn: AsyncConnection, actor: Actor, *, hold: bool = True) -> int:
    """The actor's user id, once their account is seen live inside the caller's write
    transaction, and with `hold` held so to its end (see `UserRepository.lock_live`).

    The bearer token was checked before the transaction began; an account deleted since then
    is a request whose principal is gone: 401, and the transaction writes nothing. Changes to
    users pass `hold=False`: they lock user rows for update themselves (the last-admin guard),
    and a shared lock taken first would let two admins acting on each other deadlock.
    """
    user_id = actor.require_user_id()
    if not await UserRepository(conn).lock_live(user_id, hold=hold):
        raise AuthenticationFailed(SESSION_ENDED)
    return user_id
