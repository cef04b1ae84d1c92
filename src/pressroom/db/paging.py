"""One statement for a page and its total: the count rides along as an uncorrelated subquery,
which both PostgreSQL and SQLite evaluate once; a second query runs only past the last page.

Keyset slices (cursor pagination) follow the same shape: one statement for the rows after a
cursor with the list's bounds, and one statement for a slice of many groups at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, FromClause

from pressroom.db.direct import DirectQuery, ResultRow
from pressroom.kit.cursors import Position
from pressroom.kit.windows import Window, Windowed

T = TypeVar("T")
TOTAL_LABEL = "page_total"
_LIMIT = bindparam("page_limit", type_=Integer)
_OFFSET = bindparam("page_offset", type_=Integer)
_NO_PARAMS: Mapping[str, Any] = {}


def page_statements(
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    total: Select[Any] | None = None,
) -> tuple[Select[Any], Select[Any]]:
    """The page (with its total) and the total alone. Limit and offset are parameters, so a
    repository may build the pair once and run it for every page. `total` replaces counting
    the rows where the database keeps the number."""
    count = total if total is not None else select(func.count()).select_from(source).where(*where)
    statement = (
        query.add_columns(count.scalar_subquery().label(TOTAL_LABEL))
        .where(*where)
        .order_by(*order_by)
        .limit(_LIMIT)
        .offset(_OFFSET)
    )
    return statement, count


async def run_page(
    conn: AsyncConnection,
    statement: Select[Any] | DirectQuery,
    count: Select[Any],
    *,
    window: Window,
    params: Mapping[str, Any] = _NO_PARAMS,
) -> tuple[Sequence[ResultRow], int]:
    """The rows of one page (`window`'s size rows from its offset), and the total; `params`
    are the values of the statements' own parameters. A prebuilt page runs as a `DirectQuery`."""
    bounds = {**params, "page_limit": window.size, "page_offset": window.offset}
    if isinstance(statement, DirectQuery):
        rows = await statement.all(conn, bounds)
    else:
        rows = [row._mapping for row in await conn.execute(statement, bounds)]
    if rows:
        return rows, int(rows[0][TOTAL_LABEL])
    if window.offset == 0:
        return rows, 0
    return rows, int((await conn.execute(count, dict(params))).scalar_one())


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    window: Window,
) -> tuple[Sequence[ResultRow], int]:
    statement, count = page_statements(query, source=source, where=where, order_by=order_by)
    return await run_page(conn, statement, count, window=window)


@dataclass(frozen=True, slots=True)
class SliceRows:
    """One keyset slice: its rows (each carrying `slice_key` and `slice_id`) and its bounds."""

    rows: list[Row[Any]]
    total: int
    has_next: bool
    has_previous: bool

    def windowed(self, items: list[T], key: str) -> Windowed[T]:
        """The window of `items` (the rows, shaped), with cursors naming the sort `key`."""
        rows = self.rows

        def position_of(n: int) -> Position:
            return Position(key, rows[n].slice_key, int(rows[n].slice_id))

        return Windowed(items, self.total, self.has_next, self.has_previous, position_of)


def _past(
    key: ColumnElement[Any], tie: ColumnElement[Any], after: Position | None, descending: bool
) -> ColumnElement[bool] | None:
    """Rows strictly after the cursor in (key, id) order; None when there is no cursor."""
    if after is None:
        return None
    if descending:
        return or_(key < after.value, and_(key == after.value, tie < after.id))
    return or_(key > after.value, and_(key == after.value, tie > after.id))


def _order(
    key: ColumnElement[Any], tie: ColumnElement[Any], descending: bool
) -> list[ColumnElement[Any]]:
    return [key.desc(), tie.desc()] if descending else [key.asc(), tie.asc()]


async def fetch_slice(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    params: Mapping[str, Any] = _NO_PARAMS,
    key: ColumnElement[Any],
    tie: ColumnElement[Any],
    size: int,
    after: Position | None,
    descending: bool = True,
) -> SliceRows:
    """A keyset slice in one statement: the rows after the cursor (one more than asked, to
    know whether a next page exists), the list's total, and whether rows precede the cursor."""
    past = _past(key, tie, after, descending)
    count = select(func.count()).select_from(source).where(*where)
    bounds = [count.scalar_subquery().label(TOTAL_LABEL)]
    if past is not None:
        before = select(literal(1)).select_from(source).where(*where, not_(past))
        bounds.append(exists(before).label("slice_before"))
    statement = (
        query.add_columns(*bounds, key.label("slice_key"), tie.label("slice_id"))
        .where(*where, *([past] if past is not None else []))
        .order_by(*_order(key, tie, descending))
        .limit(size + 1)
    )
    rows = list((await conn.execute(statement, dict(params))).all())
    if rows:
        first_row = rows[0]._mapping
        total = int(first_row[TOTAL_LABEL])
        has_previous = past is not None and bool(first_row["slice_before"])
    elif past is None:
        total, has_previous = 0, False
    else:
        # Past the end of the list: only the bounds are left to tell.
        bounds_row = (await conn.execute(select(*bounds), dict(params))).one()._mapping
        total, has_previous = int(bounds_row[TOTAL_LABEL]), bool(bounds_row["slice_before"])
    return SliceRows(rows[:size], total, len(rows) > size, has_previous)


async def fetch_slices_by_group(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    group: ColumnElement[int],
    group_ids: Sequence[int],
    where: Sequence[ColumnElement[bool]],
    params: Mapping[str, Any] = _NO_PARAMS,
    key: ColumnElement[Any],
    tie: ColumnElement[Any],
    size: int,
    after: Position | None,
    descending: bool = True,
) -> dict[int, SliceRows]:
    """The same slice of many lists (the posts of many users) in one statement.

    Window functions number each group's rows on either side of the cursor; the outer query
    keeps the first `size` rows after it, plus one row per side so that groups with
    nothing left after the cursor still report their total and what precedes it.
    """
    if not group_ids:
        return {}
    past = _past(key, tie, after, descending)
    side_flag: ColumnElement[Any] = (
        literal_column("1") if past is None else case((past, 1), else_=0)
    )
    side = [group] if past is None else [group, side_flag]
    inner = (
        query.add_columns(
            group.label("slice_group"),
            key.label("slice_key"),
            tie.label("slice_id"),
            side_flag.label("slice_past"),
            func.count().over(partition_by=group).label("slice_total"),
            func.count().over(partition_by=side).label("slice_side"),
            func.row_number()
            .over(partition_by=side, order_by=_order(key, tie, descending))
            .label("slice_rank"),
        )
        .where(group.in_(group_ids), *where)
        .subquery("slices")
    )
    c = inner.c
    statement = (
        select(inner)
        .where(or_(and_(c.slice_past == 1, c.slice_rank <= size), c.slice_rank == 1))
        .order_by(c.slice_group, c.slice_past.desc(), c.slice_rank)
    )
    found: dict[int, list[Row[Any]]] = {group_id: [] for group_id in group_ids}
    totals: dict[int, int] = {}
    after_counts: dict[int, int] = {}
    before: set[int] = set()
    for row in (await conn.execute(statement, dict(params))).all():
        group_id = int(row.slice_group)
        totals[group_id] = int(row.slice_total)
        if row.slice_past == 1:
            after_counts[group_id] = int(row.slice_side)
            if row.slice_rank <= size:
                found[group_id].append(row)
        else:
            before.add(group_id)
    return {
        group_id: SliceRows(
            rows,
            totals.get(group_id, 0),
            after_counts.get(group_id, 0) > size,
            group_id in before,
        )
        for group_id, rows in found.items()
    }
