"""One statement for a page and its total: the count rides along as an uncorrelated subquery,
which both PostgreSQL and SQLite evaluate once; a second query runs only past the last page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, FromClause

from pressroom.kit.pagination import PageRequest

TOTAL_LABEL = "page_total"
_LIMIT = bindparam("page_limit", type_=Integer)
_OFFSET = bindparam("page_offset", type_=Integer)


def page_statements(
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
) -> tuple[Select[Any], Select[Any]]:
    """The page (with its total) and the count alone. Limit and offset are parameters, so a
    repository may build the pair once and run it for every page."""
    count = select(func.count()).select_from(source).where(*where)
    statement = (
        query.add_columns(count.scalar_subquery().label(TOTAL_LABEL))
        .where(*where)
        .order_by(*order_by)
        .limit(_LIMIT)
        .offset(_OFFSET)
    )
    return statement, count


async def run_page(
    conn: AsyncConnection, statement: Select[Any], count: Select[Any], *, page: PageRequest
) -> tuple[list[Row[Any]], int]:
    bounds = {"page_limit": page.limit, "page_offset": page.offset}
    rows = list((await conn.execute(statement, bounds)).all())
    if rows:
        return rows, int(rows[0]._mapping[TOTAL_LABEL])
    if page.offset == 0:
        return rows, 0
    return rows, int((await conn.execute(count)).scalar_one())


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    page: PageRequest,
) -> tuple[list[Row[Any]], int]:
    statement, count = page_statements(query, source=source, where=where, order_by=order_by)
    return await run_page(conn, statement, count, page=page)
