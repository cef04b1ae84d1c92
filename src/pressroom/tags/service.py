"""Rules about tags: anyone reads them; posts:delete holders rename and delete them."""

from __future__ import annotations

from collections.abc import Sequence

from pressroom.auth.actor import ANONYMOUS, Actor, may_see_all_drafts
from pressroom.auth.permissions import Permission
from pressroom.db.engine import Database
from pressroom.events import payloads
from pressroom.events.recorder import EventRecorder
from pressroom.kit.clock import utcnow
from pressroom.kit.cursors import Slice, SliceRequest
from pressroom.kit.errors import Conflict, NotFound
from pressroom.kit.pagination import Page, PageRequest
from pressroom.kit.sorting import parse_sort
from pressroom.tags.models import TagReader, TagRecord
from pressroom.tags.repository import TagRepository
from pressroom.tags.schemas import UpdateTagRequest
from pressroom.tags.sorting import DEFAULT_TAG_SORT, TagSortKey

TAG_NOT_FOUND = "Tag not found"


def tag_reader(actor: Actor) -> TagReader:
    """Tags are known through the posts one may see (`TagReader`)."""
    return TagReader(actor.user_id, may_see_all_drafts(actor))


class TagService:
    def __init__(self, db: Database, events: EventRecorder) -> None:
        self.db = db
        self.events = events

    async def list_tags(self, page: PageRequest, sort: str | None = None) -> Page[TagRecord]:
        fields = parse_sort(sort, TagSortKey, DEFAULT_TAG_SORT)
        async with self.db.read() as conn:
            items, total = await TagRepository(conn).page(page, fields)
        return Page(items, page, total)

    async def list_slice(self, request: SliceRequest) -> Slice[TagRecord]:
        async with self.db.read() as conn:
            return await TagRepository(conn).slice(request)

    async def post_counts(self, tag_ids: Sequence[int]) -> dict[int, int]:
        async with self.db.read() as conn:
            return await TagRepository(conn).post_counts(tag_ids)

    async def get(self, actor: Actor, slug: str) -> TagRecord:
        async with self.db.read() as conn:
            tag = await TagRepository(conn).by_slug(slug, tag_reader(actor))
        if tag is None:
            raise NotFound(TAG_NOT_FOUND)
        return tag

    async def update(self, actor: Actor, slug: str, changes: UpdateTagRequest) -> TagRecord:
        actor.require(Permission.POSTS_DELETE)
        values = changes.model_dump(exclude_unset=True)
        async with self.db.write() as conn:
            repo = TagRepository(conn)
            tag = await repo.by_slug(slug)
            if tag is None:
                raise NotFound(TAG_NOT_FOUND)
            if await repo.taken(name=values.get("name"), slug=values.get("slug"), except_id=tag.id):
                raise Conflict("Another tag already has this name or slug")
            if values:
                await repo.update(tag.id, values)
            updated = await repo.by_slug(values.get("slug", slug))
            if updated is None:
                # Deleted meanwhile (PostgreSQL, READ COMMITTED): the raise undoes the rename.
                raise NotFound(TAG_NOT_FOUND)
            public = await repo.by_slug(updated.slug, tag_reader(ANONYMOUS))
            await self.events.record(conn, payloads.tag_updated(updated.id, public), utcnow())
        return updated

    async def delete(self, actor: Actor, slug: str) -> None:
        actor.require(Permission.POSTS_DELETE)
        async with self.db.write() as conn:
            repo = TagRepository(conn)
            tag_id = await repo.id_for_slug(slug)
            if tag_id is None:
                raise NotFound(TAG_NOT_FOUND)
            await repo.delete(tag_id)
            await self.events.record(conn, payloads.tag_deleted(tag_id), utcnow())
