"""Plain records of posts. `PostRecord` is also the post's response shape (kit/output.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.kit.output import Timestamp, output
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
    """What a post list asks for; the service fills in what the actor may see."""

    published: bool = True
    tag_slug: str | None = None
    author_id: int | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class CounterRepair:
    """One kept counter set from the rows it counts: its value before and after."""

    counter: str
    before: int
    after: int
