"""Page-number pagination for REST collections: `?page=1&limit=20`, validated, never clamped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
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

    def pagination_json(self) -> dict[str, int]:
        limit = self.request.limit
        return {
            "page": self.request.page,
            "limit": limit,
            "total": self.total,
            "totalPages": (self.total + limit - 1) // limit,
        }

    def to_json(self, shape: Any) -> dict[str, Any]:
        return {"data": [shape(item) for item in self.items], "pagination": self.pagination_json()}
