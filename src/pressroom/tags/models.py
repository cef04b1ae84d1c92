"""Plain records of tags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TagRef:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class TagRecord:
    id: int
    name: str
    slug: str
    post_count: int
