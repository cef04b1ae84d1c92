"""Sort keys of GET /users."""

from __future__ import annotations

from enum import StrEnum


class UserSortKey(StrEnum):
    CREATED_AT = "created_at"
    LAST_NAME = "last_name"
    EMAIL = "email"  # users:manage only


DEFAULT_USER_SORT = "-created_at"
