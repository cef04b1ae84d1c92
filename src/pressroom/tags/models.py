"""Plain records of tags; `TagRef` and `TagRecord` are also response shapes (kit/output.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pressroom.kit.output import output


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 2.5x the cost,
# and a page of posts builds 120 of these records; nothing changes a record once built.
@output
@dataclass(slots=True)
class TagRef:
    id: int
    name: str
    slug: str


@output
@dataclass(frozen=True, slots=True)
class TagRecord:
    id: int
    name: str
    slug: str
    post_count: int
