"""Who is asking: the authenticated principal, or anonymous. Every service method takes one."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.auth.permissions import Permission, permissions_for
from pressroom.kit.errors import AuthenticationFailed, Forbidden

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


def may_see_all_drafts(actor: Actor) -> bool:
    """Moderators and admins review drafts; they hold posts:delete. Posts and tags both ask (a
    tag is known through the posts one may see), so the rule sits here, below both."""
    return actor.can(Permission.POSTS_DELETE)


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks, as far as which rows they may see goes, and nothing more (no session, no
    email): what repositories derive visibility from. A published post of a live author is
    anyone's; a draft is its author's, and everyone's who reviews every draft; a tag is known
    through the posts one may see. Hashable, so it is part of a query spec (a cache key)."""

    user_id: int | None = None
    sees_all_drafts: bool = False


def reader_of(actor: Actor) -> Reader:
    return Reader(actor.user_id, may_see_all_drafts(actor))


ANONYMOUS_READER = Reader()
