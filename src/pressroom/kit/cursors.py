"""Keyset slices for cursor-paginated lists (GraphQL connections).

A cursor names a position, not an offset: the sort value of the last item seen and its id.
Rows inserted before that position never shift what comes after it, so a client walking a
list with `first`/`after` neither repeats nor skips items while others write.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import orjson

from pressroom.kit.bounds import MAX_PAGE_SIZE
from pressroom.kit.errors import ValidationFailed
from pressroom.kit.ids import is_row_id

T = TypeVar("T")
MAX_SLICE_SIZE = MAX_PAGE_SIZE
DEFAULT_SLICE_SIZE = 20
MAX_CURSOR_CHARS = 200
BAD_CURSOR = "is not a cursor of this list"

SortValue = datetime | str
# The keys lists are sliced by, and the type of their values. A cursor is only ever decoded
# into one of these pairs: a text value under a time key (a forged cursor) used to reach the
# database layer and fail there as an internal error.
KEY_KINDS = {"published_at": "t", "created_at": "t", "name": "s", "title": "s"}


@dataclass(frozen=True, slots=True)
class Position:
    """Where an item sits in a list ordered by one key, ties broken by id."""

    key: str
    value: SortValue
    id: int


@dataclass(frozen=True, slots=True)
class SliceRequest:
    first: int = DEFAULT_SLICE_SIZE
    after: Position | None = None

    def after_for(self, key: str) -> Position | None:
        """The cursor, refused when it comes from a list sorted by another key."""
        if self.after is not None and self.after.key != key:
            raise ValidationFailed.on("after", BAD_CURSOR)
        return self.after


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    items: list[T]
    positions: list[Position]
    total: int
    has_next: bool
    has_previous: bool

    @classmethod
    def empty(cls) -> Slice[T]:
        return cls([], [], 0, False, False)


def slice_request(first: int | None, after: str | None) -> SliceRequest:
    """Validate `first` (0..100) and decode `after`."""
    size = DEFAULT_SLICE_SIZE if first is None else first
    if not 0 <= size <= MAX_SLICE_SIZE:
        raise ValidationFailed.on("first", f"must be between 0 and {MAX_SLICE_SIZE}")
    return SliceRequest(size, None if after is None else decode_cursor(after))


def encode_cursor(position: Position) -> str:
    value = position.value
    typed = ["t", value.isoformat()] if isinstance(value, datetime) else ["s", value]
    raw = orjson.dumps([position.key, *typed, position.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; anything not made by `encode_cursor` is refused."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, kind, value, item_id = orjson.loads(raw)
        if (
            not isinstance(name, str)
            or KEY_KINDS.get(name) != kind
            or not isinstance(value, str)
            or "\x00" in value  # PostgreSQL text cannot hold NUL
            or not is_row_id(item_id)
        ):
            raise ValueError(cursor)
        if kind == "t":
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError(cursor)
            # In UTC now: an offset that moves year 1 or 9999 out of range fails here, not
            # in the database layer.
            return Position(name, moment.astimezone(UTC), item_id)
        return Position(name, value, item_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationFailed.on("after", BAD_CURSOR) from None
