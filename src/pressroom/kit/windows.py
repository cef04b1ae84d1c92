"""Which rows of an ordered list a caller gets: one window type for REST's numbered pages and
GraphQL's cursor slices.

A repository is asked for a `Window` and answers a `Windowed`; the door's request
(`PageRequest`, `SliceRequest`) and its answer (`Page`, `Slice`) are two views of the same pair,
so a repository reads a list one way, whichever door asked, and the window without a cursor is
the same statement as the first page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pressroom.kit.cursors import BAD_CURSOR, Position, Slice, SliceRequest
from pressroom.kit.errors import ValidationFailed
from pressroom.kit.pagination import Page, PageRequest

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Window:
    """`size` rows of a list, skipping the first `offset` (a page) or every row up to and
    including the position `after` (a keyset slice). A value: equal windows are equal."""

    size: int
    offset: int = 0
    after: Position | None = None

    @classmethod
    def of_page(cls, request: PageRequest) -> Window:
        return cls(request.limit, request.offset)

    @classmethod
    def of_slice(cls, request: SliceRequest) -> Window:
        return cls(request.first, 0, request.after)

    def after_for(self, key: str) -> Position | None:
        """The cursor, refused when it comes from a list sorted by another key."""
        if self.after is not None and self.after.key != key:
            raise ValidationFailed.on("after", BAD_CURSOR)
        return self.after


@dataclass(frozen=True, slots=True)
class Windowed(Generic[T]):
    """The rows of a window, the list's total, and what lies on either side. `position_of`
    gives the nth item's position, for the cursors of a slice; a page never asks for them."""

    items: list[T]
    total: int
    has_next: bool
    has_previous: bool
    position_of: Callable[[int], Position]

    def page(self, request: PageRequest) -> Page[T]:
        return Page(self.items, request, self.total)

    def slice(self) -> Slice[T]:
        positions = [self.position_of(n) for n in range(len(self.items))]
        return Slice(self.items, positions, self.total, self.has_next, self.has_previous)

    @classmethod
    def empty(cls) -> Windowed[T]:
        return cls([], 0, False, False, _no_position)


def _no_position(n: int) -> Position:
    raise IndexError(n)
