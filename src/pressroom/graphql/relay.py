"""Relay connections: a page of records as edges with cursors and a `PageInfo`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from pressroom.kit.cursors import Slice, encode_cursor

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


R = TypeVar("R")


def connection(found: Slice[R], shape: Callable[[R], T]) -> Connection[T]:
    cursors = [encode_cursor(position) for position in found.positions]
    return Connection(
        edges=[
            Edge(cursor=cursor, node=shape(item))
            for cursor, item in zip(cursors, found.items, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=found.has_next,
            has_previous_page=found.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=found.total,
    )
