"""Plain records of posts. `PostRecord` is also the post's response shape (kit/output.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.auth.actor import Reader
from pressroom.kit.output import Timestamp, output
from pressroom.kit.sorting import SortField
from pressroom.posts.sorting import PostSortKey
from pressroom.tags.models import TagRef
from pressroom.users.models import Author


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 2.5x the cost,
# and a page of posts builds 120 of these records; nothing changes a record once built.
@output
@dataclass(slots=True)
class PostRecord:
    id: int
    title: str
    content: str
    published: bool
    published_at: Timestamp | None
    author: Author
    tags: tuple[TagRef, ...]
    created_at: Timestamp
    updated_at: Timestamp


@dataclass(frozen=True, slots=True)
class PostFilter:
    """Which posts a list asks for, in a client's words. `published`: the published list
    (True), drafts (False), or both (None: a user's page of posts). Every other field is a
    filter, None when not given."""

    published: bool | None = True
    tag_slug: str | None = None
    author_id: int | None = None
    search: str | None = None


NEWEST_PUBLISHED_FIRST = (SortField(PostSortKey.PUBLISHED_AT, descending=True),)


@dataclass(frozen=True, slots=True)
class PostQuery:
    """A post list as a service asks for it: who asks, which posts, in which order. The
    repository derives from `reader` which of those posts they may see, and builds (once per
    shape, cached by value) the SQL; nothing here is SQL. Hashable and compared by value."""

    reader: Reader
    filter: PostFilter = PostFilter()
    sort: tuple[SortField[PostSortKey], ...] = NEWEST_PUBLISHED_FIRST


@dataclass(frozen=True, slots=True)
class CounterRepair:
    """One kept counter set from the rows it counts: its value before and after."""

    counter: str
    before: int
    after: int
