"""All SQL about posts. A post, or a page of a list with its total, is one statement: each row
carries its author and its tags (an array of records on PostgreSQL, a JSON array on SQLite).
A slice of many authors' posts reads their tags in one more statement."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from pressroom.auth.actor import Reader
from pressroom.db.direct import DirectQuery, ResultRow
from pressroom.db.paging import fetch_slice, fetch_slices_by_group, page_statements, run_page
from pressroom.db.tables import post_tags, posts, profiles, published_post_total, tags, users
from pressroom.kit.cursors import Position
from pressroom.kit.search import escape_like
from pressroom.kit.sorting import SortField
from pressroom.kit.windows import Window, Windowed
from pressroom.posts.models import CounterRepair, PostFilter, PostQuery, PostRecord
from pressroom.posts.sorting import PostSortKey
from pressroom.tags.models import TagRef
from pressroom.tags.repository import TagRepository, tags_of_post_column, tags_of_post_json
from pressroom.users.models import Author, Profile

_POST_COLUMNS = (
    posts.c.id,
    posts.c.user_id,
    posts.c.title,
    posts.c.content,
    posts.c.published,
    posts.c.published_at,
    posts.c.created_at,
    posts.c.updated_at,
    profiles.c.first_name,
    profiles.c.last_name,
    profiles.c.avatar_url,
    profiles.c.bio,
)
# Posts of soft-deleted users leave every list and lookup with them.
_POST_SOURCE = posts.join(
    users, (users.c.id == posts.c.user_id) & users.c.deleted_at.is_(None)
).join(profiles, profiles.c.user_id == posts.c.user_id)
_PUBLISHED_TOTAL = select(
    cast(func.coalesce(func.sum(published_post_total.c.posts), literal_column("0")), BigInteger)
)
_COUNT_SOURCE = posts.join(users, (users.c.id == posts.c.user_id) & users.c.deleted_at.is_(None))
# What the kept slots should hold: the published list's posts, by slot (migration 0004).
_slot = (posts.c.id % 16).label("slot")
_PUBLISHED_BY_SLOT = (
    select(_slot, func.count().label("posts"))
    .select_from(_COUNT_SOURCE)
    .where(posts.c.published.is_(True))
    .group_by(_slot)
)
_POST_QUERY = select(*_POST_COLUMNS).select_from(_POST_SOURCE)
_WITH_PROFILE = posts.join(profiles, profiles.c.user_id == posts.c.user_id)
# The rows carry their tags (read by `_tags_of`): one statement for a post or a page.
# PostgreSQL's: the live author as a scalar subquery on each post row, which the planner can
# neither flatten into a join nor reorder, so a page is always the list index read in order,
# each row's author looked up by primary key, stopping at the page's last row. As a join, on a
# freshly loaded table without statistics the planner took `deleted_at IS NULL` to keep 0.5% of
# the users, started from them and sorted every post they wrote: 37 ms a page instead of 0.3
# (docs/performance.md; tests/db/test_plans.py reads the plans).
_AUTHOR_IS_LIVE = (
    select(users.c.deleted_at.is_(None)).where(users.c.id == posts.c.user_id).scalar_subquery()
)
_POST_WITH_TAGS_QUERY = (
    select(*_POST_COLUMNS, tags_of_post_column(posts.c.id).label("tags"))
    .select_from(_WITH_PROFILE)
    .where(_AUTHOR_IS_LIVE)
)
# SQLite's: the live author as EXISTS, not a join condition on users. With `deleted_at IS NULL`
# in the join, SQLite 3.40 first builds a Bloom filter over the whole users table, on every
# page (40 µs of 65 with 1,000 users, growing with them; docs/performance.md).
_SQLITE_POST_WITH_TAGS_QUERY = (
    select(*_POST_COLUMNS, tags_of_post_json(posts.c.id).label("tags"))
    .select_from(_WITH_PROFILE)
    .where(
        select(users.c.id)
        .where(users.c.id == posts.c.user_id, users.c.deleted_at.is_(None))
        .exists()
    )
)
_ONE_POST = DirectQuery(
    _POST_WITH_TAGS_QUERY.where(posts.c.id == bindparam("post_id")),
    elsewhere=_SQLITE_POST_WITH_TAGS_QUERY.where(posts.c.id == bindparam("post_id")),
)

# Lists. Who may see which posts is derived here from the query's reader, and only here (the
# joins above add "by a live author" to every list); a list's SQL is built from its `_Shape`
# alone, every value bound as a parameter, so one statement serves every reader and every
# value of a filter, and the cache is keyed by what shapes the SQL, compared by value.
# `=` rather than `IS` for `published`: PostgreSQL uses an index only for the equality.
_IS_PUBLISHED = posts.c.published == True  # noqa: E712
_IS_DRAFT = posts.c.published == False  # noqa: E712
_BY_READER = posts.c.user_id == bindparam("reader_id", type_=BigInteger)


class _Sees(Enum):
    """Which posts of the list the reader may see, whatever it holds otherwise."""

    ALL = "all"
    OWN = "own"
    PUBLISHED = "published"
    PUBLISHED_OR_OWN = "published or own"
    NOTHING = "nothing"


_SEES: dict[_Sees, tuple[ColumnElement[bool], ...]] = {
    _Sees.ALL: (),
    _Sees.OWN: (_BY_READER,),
    _Sees.PUBLISHED: (_IS_PUBLISHED,),
    _Sees.PUBLISHED_OR_OWN: (or_(_IS_PUBLISHED, _BY_READER),),
    _Sees.NOTHING: (false(),),
}


class _Filter(NamedTuple):
    """A filter of `PostFilter` in SQL: its condition, reading the value from the parameter
    named as the field, and how the given value becomes that parameter."""

    condition: ColumnElement[bool]
    bound: Callable[[Any], Any] = lambda value: value


def _like_pattern(search: str) -> str:
    return f"%{escape_like(search.lower())}%"


_SEARCH = bindparam("search", type_=String)
_FILTERS: dict[str, _Filter] = {
    "tag_slug": _Filter(
        posts.c.id.in_(
            select(post_tags.c.post_id)
            .select_from(post_tags.join(tags, tags.c.id == post_tags.c.tag_id))
            .where(tags.c.slug == bindparam("tag_slug", type_=String))
        )
    ),
    "author_id": _Filter(posts.c.user_id == bindparam("author_id", type_=BigInteger)),
    "search": _Filter(
        or_(
            func.lower(posts.c.title).like(_SEARCH, escape="\\"),
            func.lower(posts.c.content).like(_SEARCH, escape="\\"),
        ),
        _like_pattern,
    ),
}
# Every field of PostFilter but `published` is a filter with its SQL above: a filter added
# there and not here fails at import, never silently (a filter the SQL did not see would list
# posts it should not, and count them with the kept total).
if set(_FILTERS) != {field.name for field in fields(PostFilter)} - {"published"}:
    raise RuntimeError("posts/repository.py: each PostFilter filter needs its SQL in _FILTERS")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What shapes a post list's SQL, and nothing else (no value): the statement cache's key."""

    published: bool | None
    sees: _Sees
    filters: tuple[str, ...]
    sort: tuple[SortField[PostSortKey], ...]

    @property
    def whole_published_list(self) -> bool:
        """The list whose total the database keeps (migration 0004): every published post of
        a live author, no filter."""
        return self.published is True and self.sees is _Sees.ALL and not self.filters


def _sees(query: PostQuery) -> _Sees:
    """Which posts of the list `query.reader` may see: a published post of a live author is
    everyone's; a draft its author's, and everyone's who reviews every draft."""
    reader, wanted = query.reader, query.filter
    if wanted.published is True or reader.sees_all_drafts:
        return _Sees.ALL
    if reader.user_id is None:
        return _Sees.NOTHING if wanted.published is False else _Sees.PUBLISHED
    if wanted.published is False:
        return _Sees.OWN
    if wanted.author_id is None:
        return _Sees.PUBLISHED_OR_OWN
    # One author's posts: all of them for that author, their published ones for anyone else.
    return _Sees.ALL if wanted.author_id == reader.user_id else _Sees.PUBLISHED


def _may_see(reader: Reader, row: ResultRow) -> bool:
    """`_sees` for one post: published (its author is live: the statement), or a draft the reader
    wrote or reviews."""
    return bool(row["published"]) or reader.sees_all_drafts or row["user_id"] == reader.user_id


def _shape_and_params(query: PostQuery) -> tuple[_Shape, dict[str, Any]]:
    wanted = query.filter
    params: dict[str, Any] = {"reader_id": query.reader.user_id}
    given: list[str] = []
    for name, sql in _FILTERS.items():
        value = getattr(wanted, name)
        if value is not None and value != "":
            given.append(name)
            params[name] = sql.bound(value)
    return _Shape(wanted.published, _sees(query), tuple(given), query.sort), params


def _where(shape: _Shape) -> list[ColumnElement[bool]]:
    state = {True: [_IS_PUBLISHED], False: [_IS_DRAFT], None: []}[shape.published]
    return [*state, *_SEES[shape.sees], *(_FILTERS[name].condition for name in shape.filters)]


class _BuiltPage(NamedTuple):
    rows: DirectQuery
    total: Select[Any]


# Keyed by value: equal shapes, however built, are one entry. Shapes are few (the sort orders
# come from clients, so the cache is bounded all the same).
@functools.lru_cache(maxsize=128)
def _built_page(shape: _Shape) -> _BuiltPage:
    where = _where(shape)
    order_by = [_sort_column(field) for field in shape.sort]
    order_by.append(posts.c.id.desc() if shape.sort[0].descending else posts.c.id.asc())
    # The whole published list, the one most requested, has its total kept by the database.
    total = _PUBLISHED_TOTAL if shape.whole_published_list else None

    def statements(query: Select[Any]) -> tuple[Select[Any], Select[Any]]:
        return page_statements(
            query, source=_COUNT_SOURCE, where=where, order_by=order_by, total=total
        )

    with_tags, count = statements(_POST_WITH_TAGS_QUERY)
    sqlite_with_tags = statements(_SQLITE_POST_WITH_TAGS_QUERY)[0]
    return _BuiltPage(DirectQuery(with_tags, elsewhere=sqlite_with_tags), count)


def _records(rows: Sequence[ResultRow]) -> list[PostRecord]:
    return [_record(row, _tags_of(row)) for row in rows]


def _tags_of(row: ResultRow) -> tuple[TagRef, ...]:
    """The tags a row carries: (id, name, slug) records or arrays."""
    return tuple(TagRef(tag[0], tag[1], tag[2]) for tag in row["tags"])


def _record(m: ResultRow, post_tags_: Sequence[TagRef]) -> PostRecord:
    return PostRecord(
        id=m["id"],
        title=m["title"],
        content=m["content"],
        published=bool(m["published"]),
        published_at=m["published_at"],
        author=Author(
            m["user_id"], Profile(m["first_name"], m["last_name"], m["avatar_url"], m["bio"])
        ),
        tags=tuple(post_tags_),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class PostRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.tags = TagRepository(conn)

    @property
    def _with_tags(self) -> Select[Any]:
        if self.conn.dialect.name == "postgresql":
            return _POST_WITH_TAGS_QUERY
        return _SQLITE_POST_WITH_TAGS_QUERY

    async def get(self, post_id: int, reader: Reader | None = None) -> PostRecord | None:
        """The post, if `reader` may see it (None: the post as its own write reads it back).
        The rule is applied to the row: read by primary key, filtering in SQL saves no work,
        and one SQL text for every reader keeps the hot statement prepared once."""
        row = await _ONE_POST.first(self.conn, {"post_id": post_id})
        if row is None or not (reader is None or _may_see(reader, row)):
            return None
        return _record(row, _tags_of(row))

    async def find(self, query: PostQuery, window: Window) -> Windowed[PostRecord]:
        """The posts of `query` that its reader may see, in its order, within `window`: from
        an offset by a statement built once per shape (on PostgreSQL, run on the driver), or
        after a cursor by keyset on (key, id), the key a timestamp, newest first."""
        shape, params = _shape_and_params(query)
        if window.after is None and window.size > 0:
            built = _built_page(shape)
            rows, total = await run_page(self.conn, *built, window=window, params=params)
            items = _records(rows)
            key = query.sort[0].key

            def position_of(n: int) -> Position:
                return Position(key.value, _slice_value(items[n], key), items[n].id)

            has_next = window.offset + len(items) < total
            return Windowed(items, total, has_next, window.offset > 0, position_of)
        if len(query.sort) != 1 or not query.sort[0].descending:
            raise ValueError("post slices run newest first, by one timestamp")
        key = query.sort[0].key
        found = await fetch_slice(
            self.conn,
            self._with_tags,
            source=_COUNT_SOURCE,
            where=_where(shape),
            params=params,
            key=_slice_column(key),
            tie=posts.c.id,
            size=window.size,
            after=window.after_for(key.value),
        )
        records = _records([row._mapping for row in found.rows])
        return found.windowed(records, key.value)

    async def lists_by_author(
        self, reader: Reader, user_ids: Sequence[int], window: Window
    ) -> dict[int, Windowed[PostRecord]]:
        """The same window of many users' posts, newest first, each what `reader` may see of
        that user's posts: two statements for any number of users (the posts, then the tags
        of all of them)."""
        key = PostSortKey.CREATED_AT
        query = PostQuery(reader, PostFilter(published=None), (SortField(key, descending=True),))
        shape, params = _shape_and_params(query)
        found = await fetch_slices_by_group(
            self.conn,
            _POST_QUERY,
            group=posts.c.user_id,
            group_ids=user_ids,
            where=_where(shape),
            params=params,
            key=posts.c.created_at,
            tie=posts.c.id,
            size=window.size,
            after=window.after_for(key.value),
        )
        post_ids = [row.id for rows in found.values() for row in rows.rows]
        tags_by_post = await self.tags.tags_of_posts(post_ids)
        return {
            user_id: rows.windowed(
                [_record(row._mapping, tags_by_post[row.id]) for row in rows.rows], key.value
            )
            for user_id, rows in found.items()
        }

    async def lock(self, post_id: int) -> bool:
        """Whether the post exists, holding its row until the transaction ends: a concurrent
        edit or delete of it waits, then finds what this transaction left (SQLite runs one
        writer at a time and ignores the lock)."""
        found = await self.conn.scalar(
            select(posts.c.id).where(posts.c.id == post_id).with_for_update()
        )
        return found is not None

    async def user_exists(self, user_id: int) -> bool:
        found = await self.conn.scalar(
            select(users.c.id).where(users.c.id == user_id, users.c.deleted_at.is_(None))
        )
        return found is not None

    async def create(
        self,
        *,
        user_id: int,
        title: str,
        content: str,
        published: bool,
        now: datetime,
    ) -> int:
        post_id = await self.conn.scalar(
            insert(posts)
            .values(
                user_id=user_id,
                title=title,
                content=content,
                published=published,
                published_at=now if published else None,
                created_at=now,
                updated_at=now,
            )
            .returning(posts.c.id)
        )
        assert post_id is not None
        return int(post_id)

    async def update(self, post_id: int, values: dict[str, Any]) -> None:
        await self.conn.execute(update(posts).where(posts.c.id == post_id).values(**values))

    async def delete(self, post_id: int) -> None:
        await self.conn.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
        await self.conn.execute(delete(posts).where(posts.c.id == post_id))

    async def repair_published_total(self) -> list[CounterRepair]:
        """Sets each slot of the published list's total to a count of its posts; the slots that
        were off, before and after. Writers wait meanwhile (on PostgreSQL, EXCLUSIVE on the slots
        lets readers in but no trigger that changes a slot), so no change lands between the
        count and the repair; on SQLite the write transaction already has the file."""
        if self.conn.dialect.name == "postgresql":
            await self.conn.execute(text("LOCK TABLE published_post_total IN EXCLUSIVE MODE"))
        kept_rows = await self.conn.execute(select(*published_post_total.c))
        kept: dict[int, int] = {int(slot): int(n) for slot, n in kept_rows}
        real_rows = await self.conn.execute(_PUBLISHED_BY_SLOT)
        real: dict[int, int] = {int(slot): int(n) for slot, n in real_rows}
        repairs = []
        for slot, before in sorted(kept.items()):
            after = real.get(slot, 0)
            if before != after:
                await self.conn.execute(
                    update(published_post_total)
                    .where(published_post_total.c.slot == slot)
                    .values(posts=after)
                )
                repairs.append(CounterRepair(f"published_post_total slot {slot}", before, after))
        if repairs:
            whole = CounterRepair("published_post_total", sum(kept.values()), sum(real.values()))
            repairs.insert(0, whole)
        return repairs


def _slice_value(record: PostRecord, key: PostSortKey) -> Any:
    """What a cursor holds for `key`: the record's value of the `_slice_column`."""
    match key:
        case PostSortKey.PUBLISHED_AT:
            return record.published_at
        case PostSortKey.CREATED_AT:
            return record.created_at
        case PostSortKey.TITLE:
            raise ValueError("post slices run newest first, by a timestamp")


def _slice_column(key: PostSortKey) -> ColumnElement[Any]:
    match key:
        case PostSortKey.PUBLISHED_AT:
            return posts.c.published_at
        case PostSortKey.CREATED_AT:
            return posts.c.created_at
        case PostSortKey.TITLE:
            raise ValueError("post slices run newest first, by a timestamp")


def _sort_column(field: SortField[PostSortKey]) -> ColumnElement[Any]:
    match field.key:
        case PostSortKey.PUBLISHED_AT:
            column: ColumnElement[Any] = posts.c.published_at
        case PostSortKey.CREATED_AT:
            column = posts.c.created_at
        case PostSortKey.TITLE:
            column = func.lower(posts.c.title)
    ordered = column.desc() if field.descending else column.asc()
    # Drafts have no published_at; both databases then agree to put them last.
    return ordered.nulls_last() if field.key is PostSortKey.PUBLISHED_AT else ordered
