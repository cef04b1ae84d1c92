"""Sort keys of GET /tags."""

from __future__ import annotations

from enum import StrEnum


class TagSortKey(StrEnum):
    NAME = "name"
    POST_COUNT = "post_count"


DEFAULT_TAG_SORT = "name"
