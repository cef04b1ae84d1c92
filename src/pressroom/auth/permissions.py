"""The roles table: which permissions each role holds. Ownership rules live in services."""

from __future__ import annotations

import functools
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Permission(StrEnum):
    POSTS_READ = "posts:read"
    POSTS_WRITE = "posts:write"
    POSTS_DELETE = "posts:delete"
    USERS_MANAGE = "users:manage"
    # Not in the original roles table: "the admin role holds every permission and may edit any post"
    # (docs/api.md), while moderators may delete others' posts but not edit them.
    POSTS_EDIT_ANY = "posts:edit_any"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.USER: frozenset({Permission.POSTS_READ, Permission.POSTS_WRITE}),
    Role.MODERATOR: frozenset(
        {Permission.POSTS_READ, Permission.POSTS_WRITE, Permission.POSTS_DELETE}
    ),
    Role.ADMIN: frozenset(Permission),
}


@functools.lru_cache(maxsize=64)  # every authenticated request; role sets are few
def permissions_for(roles: tuple[str, ...]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(granted)
