"""All SQL about tags and their links to posts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Select,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from pressroom.auth.actor import Reader
from pressroom.db.direct import DirectQuery, ResultRow
from pressroom.db.paging import fetch_slice, page_statements, run_page
from pressroom.db.tables import post_tags, posts, tags, users
from pressroom.kit.sorting import SortField
from pressroom.kit.windows import Window, Windowed
from pressroom.tags.models import TagRecord, TagRef
from pressroom.tags.sorting import TagSortKey

# GraphQL tag lists run A to Z; their cursors name this key.
TAG_SLICE_KEY = "name"
_POSTS_WITH_AUTHORS = post_tags.join(posts, posts.c.id == post_tags.c.post_id).join(
    users, users.c.id == posts.c.user_id
)
# Published posts of live authors, per tag: what `postCount` counts.
_counted = (
    select(post_tags.c.tag_id, func.count().label("post_count"))
    .select_from(_POSTS_WITH_AUTHORS)
    .where(posts.c.published.is_(True), users.c.deleted_at.is_(None))
    .group_by(post_tags.c.tag_id)
)
_published_counts = _counted.subquery("published_counts")
_post_count = func.coalesce(_published_counts.c.post_count, 0)
_TAG_SOURCE = tags.outerjoin(_published_counts, _published_counts.c.tag_id == tags.c.id)
_TAG_QUERY = select(
    tags.c.id, tags.c.name, tags.c.slug, _post_count.label("post_count")
).select_from(_TAG_SOURCE)
# Tag lists hold the tags of the published list (postCount > 0), the same for every caller, so
# that a draft's tags stay unknown and the list can be cached. The counts are a CTE that the page
# and its total share: PostgreSQL computes it once (a CTE named twice is materialized), where a
# filter of its own would have joined every tagged post a second time.
_listed_counts = _counted.cte("listed_counts")
_LIST_SOURCE = tags.join(_listed_counts, _listed_counts.c.tag_id == tags.c.id)
_LIST_QUERY = select(tags.c.id, tags.c.name, tags.c.slug, _listed_counts.c.post_count).select_from(
    _LIST_SOURCE
)


def _carried(shown: ColumnElement[bool]) -> ColumnElement[bool]:
    """The tag is carried by a post of a live author that satisfies `shown`."""
    return (
        select(post_tags.c.post_id)
        .select_from(_POSTS_WITH_AUTHORS)
        .where(post_tags.c.tag_id == tags.c.id, users.c.deleted_at.is_(None), shown)
        .exists()
    )


def _known_to(reader: Reader | None) -> list[ColumnElement[bool]]:
    """What limits one tag's look-up to `reader`. A tag is known to a reader through a post
    the reader may see: a published post of a live author, the reader's own post, or any post
    for those who review every draft; a tag known only from others' drafts would tell what
    they are writing."""
    if reader is None or reader.sees_all_drafts:
        return []
    if reader.user_id is None:
        return [_carried(posts.c.published.is_(True))]
    return [_carried(or_(posts.c.published.is_(True), posts.c.user_id == reader.user_id))]


_TAGS_OF_POSTS_QUERY = (
    select(post_tags.c.post_id, tags.c.id, tags.c.name, tags.c.slug)
    .select_from(post_tags.join(tags, tags.c.id == post_tags.c.tag_id))
    .order_by(post_tags.c.post_id, func.lower(tags.c.name))
)
# Built once and run on the driver; on PostgreSQL the ids are one array parameter, so the SQL
# text is the same for any number of posts.
_TAGS_OF_POSTS = DirectQuery(
    _TAGS_OF_POSTS_QUERY.where(
        post_tags.c.post_id == any_(bindparam("post_ids", type_=postgresql.ARRAY(BigInteger)))
    ),
    elsewhere=_TAGS_OF_POSTS_QUERY.where(
        post_tags.c.post_id.in_(bindparam("post_ids", expanding=True))
    ),
)


def tags_of_post_column(post_id: ColumnElement[int]) -> ColumnElement[Any]:
    """PostgreSQL only: the tags of the post `post_id` names, in the order `tags_of_posts`
    gives them, as one array of (id, name, slug) records, so a post's row carries its tags."""
    return func.array(
        select(func.row(tags.c.id, tags.c.name, tags.c.slug))
        .select_from(post_tags.join(tags, tags.c.id == post_tags.c.tag_id))
        .where(post_tags.c.post_id == post_id)
        .order_by(func.lower(tags.c.name))
        .scalar_subquery()
    )


# Keyed by value: the list is the same for every caller, so its statements differ only by order.
@functools.lru_cache(maxsize=32)
def _built_list(sort: tuple[SortField[TagSortKey], ...]) -> tuple[Select[Any], Select[Any]]:
    order_by = [_sort_column(field) for field in sort]
    return page_statements(
        _LIST_QUERY, source=_LIST_SOURCE, where=[], order_by=[*order_by, tags.c.id.asc()]
    )


def tags_of_post_json(post_id: ColumnElement[int]) -> ColumnElement[Any]:
    """SQLite's `tags_of_post_column`: the same tags in the same order, as one JSON array of
    [id, name, slug] arrays (read back as lists). The ordered rows are a subquery that SQLite
    runs as a co-routine and json_group_array reads in that order (its own ORDER BY argument
    needs SQLite 3.44)."""
    ordered = (
        select(tags.c.id, tags.c.name, tags.c.slug)
        .select_from(post_tags.join(tags, tags.c.id == post_tags.c.tag_id))
        .where(post_tags.c.post_id == post_id)
        .order_by(func.lower(tags.c.name))
        .correlate(post_id.table if isinstance(post_id, Column) else None)
        .subquery("post_tag_list")
    )
    listed = func.json_group_array(func.json_array(ordered.c.id, ordered.c.name, ordered.c.slug))
    return type_coerce(select(listed).scalar_subquery(), JSON)


def _record(m: ResultRow) -> TagRecord:
    return TagRecord(m["id"], m["name"], m["slug"], int(m["post_count"]))


class TagRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def page(
        self, window: Window, sort: tuple[SortField[TagSortKey], ...]
    ) -> tuple[list[TagRecord], int]:
        rows, total = await run_page(self.conn, *_built_list(sort), window=window)
        return [_record(row) for row in rows], total

    async def slice(self, window: Window) -> Windowed[TagRecord]:
        """Tags by name (A to Z), by keyset on (lower(name), id)."""
        found = await fetch_slice(
            self.conn,
            _LIST_QUERY,
            source=_LIST_SOURCE,
            where=[],
            key=func.lower(tags.c.name),
            tie=tags.c.id,
            size=window.size,
            after=window.after_for(TAG_SLICE_KEY),
            descending=False,
        )
        return found.windowed([_record(row._mapping) for row in found.rows], TAG_SLICE_KEY)

    async def post_counts(self, tag_ids: Sequence[int]) -> dict[int, int]:
        """`postCount` of many tags in one statement."""
        if not tag_ids:
            return {}
        rows = await self.conn.execute(
            select(tags.c.id, _post_count.label("post_count"))
            .select_from(_TAG_SOURCE)
            .where(tags.c.id.in_(list(tag_ids)))
        )
        return {row.id: int(row.post_count) for row in rows}

    async def by_slug(self, slug: str, reader: Reader | None = None) -> TagRecord | None:
        """The tag, if `reader` knows it (None: an operator or moderator's own look-up)."""
        statement = _TAG_QUERY.where(tags.c.slug == slug, *_known_to(reader))
        row = (await self.conn.execute(statement)).first()
        return _record(row._mapping) if row else None

    async def id_for_slug(self, slug: str, reader: Reader | None = None) -> int | None:
        return await self.conn.scalar(
            select(tags.c.id).where(tags.c.slug == slug, *_known_to(reader))
        )

    async def ensure(self, names_and_slugs: Sequence[tuple[str, str]]) -> list[TagRef]:
        """The tags with these names, creating the missing ones; safe against concurrent writers."""
        if not names_and_slugs:
            return []
        insert = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        # Inserting in one global order (by slug) means two posts creating the same new tags
        # at once wait on each other instead of deadlocking on PostgreSQL.
        await self.conn.execute(
            insert(tags).on_conflict_do_nothing(),
            [{"name": name, "slug": slug} for name, slug in sorted(names_and_slugs, key=_by_slug)],
        )
        rows = (
            await self.conn.execute(
                select(tags.c.id, tags.c.name, tags.c.slug).where(
                    or_(
                        func.lower(tags.c.name).in_([n.lower() for n, _ in names_and_slugs]),
                        tags.c.slug.in_([s for _, s in names_and_slugs]),
                    )
                )
            )
        ).all()
        found: list[TagRef] = []
        for name, slug in names_and_slugs:
            match = next((r for r in rows if r.name.lower() == name.lower()), None) or next(
                (r for r in rows if r.slug == slug), None
            )
            if match is not None and all(t.id != match.id for t in found):
                found.append(TagRef(match.id, match.name, match.slug))
        return found

    async def taken(self, *, name: str | None, slug: str | None, except_id: int) -> bool:
        conditions = []
        if name is not None:
            conditions.append(func.lower(tags.c.name) == name.lower())
        if slug is not None:
            conditions.append(tags.c.slug == slug)
        if not conditions:
            return False
        found = await self.conn.scalar(
            select(tags.c.id).where(or_(*conditions), tags.c.id != except_id).limit(1)
        )
        return found is not None

    async def update(self, tag_id: int, values: dict[str, Any]) -> None:
        await self.conn.execute(update(tags).where(tags.c.id == tag_id).values(**values))

    async def delete(self, tag_id: int) -> None:
        # post_tags rows go with it (ON DELETE CASCADE); delete them first for SQLite files
        # opened elsewhere without foreign keys enforced.
        await self.conn.execute(delete(post_tags).where(post_tags.c.tag_id == tag_id))
        await self.conn.execute(delete(tags).where(tags.c.id == tag_id))

    async def tags_of_posts(self, post_ids: Sequence[int]) -> dict[int, list[TagRef]]:
        """Tags of many posts in one statement, ordered by name."""
        if not post_ids:
            return {}
        rows = await _TAGS_OF_POSTS.all(self.conn, {"post_ids": post_ids})
        by_post: dict[int, list[TagRef]] = {post_id: [] for post_id in post_ids}
        for row in rows:
            by_post[row["post_id"]].append(TagRef(row["id"], row["name"], row["slug"]))
        return by_post

    async def set_post_tags(self, post_id: int, tag_ids: Sequence[int]) -> None:
        await self.conn.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
        if tag_ids:
            await self.conn.execute(
                post_tags.insert(), [{"post_id": post_id, "tag_id": t} for t in tag_ids]
            )


def _by_slug(name_and_slug: tuple[str, str]) -> str:
    return name_and_slug[1]


def _sort_column(field: SortField[TagSortKey]) -> ColumnElement[Any]:
    match field.key:
        case TagSortKey.NAME:
            column: ColumnElement[Any] = func.lower(tags.c.name)
        case TagSortKey.POST_COUNT:
            column = _listed_counts.c.post_count
    return column.desc() if field.descending else column.asc()
