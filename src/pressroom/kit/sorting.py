"""`?sort=-created_at,title`: a comma list of a collection's allowed keys, `-` for descending.

Each collection names its keys in an Enum in its own `sorting.py`; unknown keys are a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from pressroom.kit.errors import ValidationFailed

MAX_SORT_KEYS = 4
K = TypeVar("K", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class SortField(Generic[K]):
    key: K
    descending: bool


def parse_sort(raw: str | None, keys: type[K], default: str) -> list[SortField[K]]:
    text = default if raw is None else raw
    parts = text.split(",")
    allowed = ", ".join(k.value for k in keys)
    if len(parts) > MAX_SORT_KEYS:
        raise ValidationFailed.on("sort", f"at most {MAX_SORT_KEYS} sort keys")
    fields: list[SortField[K]] = []
    for part in parts:
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-")
        try:
            key = keys(name)
        except ValueError:
            raise ValidationFailed.on(
                "sort", f"unknown sort key {name!r}; allowed: {allowed}"
            ) from None
        if any(f.key is key for f in fields):
            raise ValidationFailed.on("sort", f"sort key {name!r} given twice")
        fields.append(SortField(key, descending))
    return fields
