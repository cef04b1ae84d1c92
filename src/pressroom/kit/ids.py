"""Row ids as clients send them: positive and within the BIGINT range of every id column.

A larger integer can name no row, and neither driver can even bind it (asyncpg refuses it,
sqlite3 overflows), so it is refused at the door as a 400 instead of failing in the query.
"""

from __future__ import annotations

from typing import Annotated, TypeGuard

from fastapi import Path, Query

from pressroom.kit.bounds import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def is_row_id(value: object) -> TypeGuard[int]:
    """True for an int (not a bool) that could be the id of a row."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
