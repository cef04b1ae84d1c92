"""One statement for a page and its total: the count rides along as an uncorrelated subquery,
which both PostgreSQL and SQLite evaluate once; a second query runs only past the last page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, FromClause

from pressroom.kit.pagination import PageRequest

TOTAL_LABEL = "page_total"


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    page: PageRequest,
) -> tuple[list[Row[Any]], int]:
    count = select(func.count()).select_from(source).where(*where)
    statement = (
        query.add_columns(count.scalar_subquery().label(TOTAL_LABEL))
        .where(*where)
        .order_by(*order_by)
        .limit(page.limit)
        .offset(page.offset)
    )
    rows = list((await conn.execute(statement)).all())
    if rows:
        return rows, int(rows[0]._mapping[TOTAL_LABEL])
    if page.offset == 0:
        return rows, 0
    return rows, int((await conn.execute(count)).scalar_one())
