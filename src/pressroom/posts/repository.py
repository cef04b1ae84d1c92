"""All SQL about posts. A post, or a page of a list with its total, is one statement: each row
carries its author and its tags (an array of records on PostgreSQL, a JSON array on SQLite).
A slice of many authors' posts reads their tags in one more statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    bindparam,
    cast,
    delete,
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

from pressroom.db.direct import DirectQuery, ResultRow
from pressroom.db.paging import (
    SliceRows,
    fetch_slice,
    fetch_slices_by_group,
    page_statements,
    run_page,
)
from pressroom.db.tables import post_tags, posts, profiles, published_post_total, tags, users
from pressroom.kit.cursors import Position, Slice, SliceRequest
from pressroom.kit.pagination import PageRequest
from pressroom.kit.search import escape_like
from pressroom.kit.sorting import SortField
from pressroom.posts.models import CounterRepair, PostRecord
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
# The rows carry their tags (read by `_tags_of`): one statement for a post or a page.
_POST_WITH_TAGS_QUERY = _POST_QUERY.add_columns(tags_of_post_column(posts.c.id).label("tags"))
# SQLite's: the live author as EXISTS, not a join condition on users. With `deleted_at IS NULL`
# in the join, SQLite 3.40 first builds a Bloom filter over the whole users table, on every
# page (40 µs of 65 with 1,000 users, growing with them; docs/performance.md).
_SQLITE_POST_WITH_TAGS_QUERY = (
    select(*_POST_COLUMNS, tags_of_post_json(posts.c.id).label("tags"))
    .select_from(posts.join(profiles, profiles.c.user_id == posts.c.user_id))
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
# The conditions that carry no value of their own are shared objects, so the statements of the
# pages they filter can be built once: the published list is most of the traffic.
_PUBLISHED = {value: posts.c.published == value for value in (True, False)}
_SHARED_CONDITIONS = {id(condition) for condition in _PUBLISHED.values()}
_PageKey = tuple[tuple[int, ...], tuple[SortField[PostSortKey], ...]]
MAX_BUILT_PAGES = 64
_built_pages: dict[_PageKey, tuple[DirectQuery, Select[Any]]] = {}


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

    async def get(self, post_id: int) -> PostRecord | None:
        row = await _ONE_POST.first(self.conn, {"post_id": post_id})
        return None if row is None else _record(row, _tags_of(row))

    async def page(
        self,
        *,
        page: PageRequest,
        sort: Sequence[SortField[PostSortKey]],
        where: Sequence[ColumnElement[bool]],
    ) -> tuple[list[PostRecord], int]:
        if _prebuilt(where):
            key = (tuple(id(condition) for condition in where), tuple(sort))
            built = _built_pages.get(key)
            if built is None:
                statement, count = _page_statements(_POST_WITH_TAGS_QUERY, sort, where)
                built = (
                    DirectQuery(
                        statement,
                        elsewhere=_page_statements(_SQLITE_POST_WITH_TAGS_QUERY, sort, where)[0],
                    ),
                    count,
                )
                if len(_built_pages) < MAX_BUILT_PAGES:  # sort orders are few, but from clients
                    _built_pages[key] = built
            rows, total = await run_page(self.conn, *built, page=page)
        else:
            rows, total = await run_page(
                self.conn, *_page_statements(self._with_tags, sort, where), page=page
            )
        return [_record(row, _tags_of(row)) for row in rows], total

    async def slice(
        self, *, key: PostSortKey, where: Sequence[ColumnElement[bool]], request: SliceRequest
    ) -> Slice[PostRecord]:
        """Newest first by `key` (published_at or created_at), by keyset on (key, id)."""
        after = request.after_for(key.value)
        if after is None and request.first > 0 and _prebuilt(where):
            return await self._first_slice(key, where, request.first)
        found = await fetch_slice(
            self.conn,
            self._with_tags,
            source=_COUNT_SOURCE,
            where=where,
            key=_slice_column(key),
            tie=posts.c.id,
            request=request,
            after=after,
        )
        records = [_record(row._mapping, _tags_of(row._mapping)) for row in found.rows]
        return found.as_slice(records, key.value)

    async def _first_slice(
        self, key: PostSortKey, where: Sequence[ColumnElement[bool]], size: int
    ) -> Slice[PostRecord]:
        """A slice without a cursor is the first page in the same order (key, then id, newest
        first), whose statement is built once and runs on the driver: 1.4 ms of CPU less than
        a keyset statement built per request, on most GraphQL lists (docs/performance.md, (d))."""
        items, total = await self.page(
            page=PageRequest(1, size), sort=[SortField(key, descending=True)], where=where
        )
        positions = [Position(key.value, _slice_value(item, key), item.id) for item in items]
        return Slice(items, positions, total, has_next=total > len(items), has_previous=False)

    async def slices_by_author(
        self,
        user_ids: Sequence[int],
        *,
        where: Sequence[ColumnElement[bool]],
        request: SliceRequest,
    ) -> dict[int, Slice[PostRecord]]:
        """The same slice of many users' posts, newest first: two statements for any number
        of users (the posts, then the tags of all of them)."""
        found = await fetch_slices_by_group(
            self.conn,
            _POST_QUERY,
            group=posts.c.user_id,
            group_ids=user_ids,
            where=where,
            key=posts.c.created_at,
            tie=posts.c.id,
            request=request,
            after=request.after_for(PostSortKey.CREATED_AT.value),
        )
        post_ids = [row.id for rows in found.values() for row in rows.rows]
        tags_by_post = await self.tags.tags_of_posts(post_ids)
        return {
            user_id: _slice_of(rows, PostSortKey.CREATED_AT, tags_by_post)
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


def _page_statements(
    query: Select[Any], sort: Sequence[SortField[PostSortKey]], where: Sequence[ColumnElement[bool]]
) -> tuple[Select[Any], Select[Any]]:
    order_by = [_sort_column(field) for field in sort]
    tie_breaker = posts.c.id.desc() if sort[0].descending else posts.c.id.asc()
    # The whole published list, the one most requested, has its total kept by the database.
    whole_list = len(where) == 1 and where[0] is _PUBLISHED[True]
    return page_statements(
        query,
        source=_COUNT_SOURCE,
        where=where,
        order_by=[*order_by, tie_breaker],
        total=_PUBLISHED_TOTAL if whole_list else None,
    )


class PostConditions:
    """The WHERE clauses of post lists, named for what they mean."""

    @staticmethod
    def published(value: bool) -> ColumnElement[bool]:
        # `=` rather than `IS`: PostgreSQL uses an index only for the equality.
        return _PUBLISHED[value]

    @staticmethod
    def by_author(user_id: int) -> ColumnElement[bool]:
        return posts.c.user_id == user_id

    @staticmethod
    def published_or_by(user_id: int) -> ColumnElement[bool]:
        return or_(posts.c.published.is_(True), posts.c.user_id == user_id)

    @staticmethod
    def tagged(slug: str) -> ColumnElement[bool]:
        return posts.c.id.in_(
            select(post_tags.c.post_id)
            .select_from(post_tags.join(tags, tags.c.id == post_tags.c.tag_id))
            .where(tags.c.slug == slug)
        )

    @staticmethod
    def matching(search: str) -> ColumnElement[bool]:
        pattern = f"%{escape_like(search.lower())}%"
        return or_(
            func.lower(posts.c.title).like(pattern, escape="\\"),
            func.lower(posts.c.content).like(pattern, escape="\\"),
        )


def _slice_of(
    found: SliceRows, key: PostSortKey, tags_by_post: dict[int, list[TagRef]]
) -> Slice[PostRecord]:
    return found.as_slice(
        [_record(row._mapping, tags_by_post[row.id]) for row in found.rows], key.value
    )


def _prebuilt(where: Sequence[ColumnElement[bool]]) -> bool:
    return all(id(condition) in _SHARED_CONDITIONS for condition in where)


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
