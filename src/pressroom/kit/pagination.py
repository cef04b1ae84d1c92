"""Page-number pagination for REST collections: `?page=1&limit=20`, validated, never clamped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pressroom.kit.output import Pagination

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
# Beyond this an offset stops being a page anyone reads and starts being a way to overflow one.
MAX_PAGE_NUMBER = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    request: PageRequest
    total: int

    def pagination(self) -> Pagination:
        limit = self.request.limit
        return Pagination(self.request.page, limit, self.total, (self.total + limit - 1) // limit)
