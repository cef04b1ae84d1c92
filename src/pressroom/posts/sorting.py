"""Sort keys of post lists."""

from __future__ import annotations

from enum import StrEnum


class PostSortKey(StrEnum):
    PUBLISHED_AT = "published_at"
    CREATED_AT = "created_at"
    TITLE = "title"


DEFAULT_PUBLISHED_SORT = "-published_at"
DEFAULT_DRAFT_SORT = "-created_at"
