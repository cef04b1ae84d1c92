"""Rules about tags: anyone reads them; posts:delete holders rename and delete them."""

from __future__ import annotations

from collections.abc import Sequence

from pressroom.auth.actor import ANONYMOUS, Actor, reader_of
from pressroom.auth.permissions import Permission
from pressroom.db.units import UnitOfWork
from pressroom.events import payloads
from pressroom.events.recorder import EventRecorder
from pressroom.kit.clock import utcnow
from pressroom.kit.conditional import Precondition, require_current
from pressroom.kit.cursors import Slice, SliceRequest
from pressroom.kit.errors import Conflict, NotFound
from pressroom.kit.hot_reads import HotReadCache
from pressroom.kit.pagination import Page, PageRequest
from pressroom.kit.sorting import parse_sort
from pressroom.kit.windows import Window
from pressroom.tags.models import TagRecord
from pressroom.tags.repository import TagRepository
from pressroom.tags.schemas import UpdateTagRequest
from pressroom.tags.sorting import DEFAULT_TAG_SORT, TagSortKey

TAG_NOT_FOUND = "Tag not found"


class TagService:
    def __init__(self, hot_reads: HotReadCache, events: EventRecorder) -> None:
        self.hot_reads = hot_reads
        self.events = events

    async def list_tags(
        self, uow: UnitOfWork, page: PageRequest, sort: str | None = None
    ) -> Page[TagRecord]:
        fields = parse_sort(sort, TagSortKey, DEFAULT_TAG_SORT)
        async with uow.read() as conn:
            items, total = await TagRepository(conn).page(Window.of_page(page), fields)
        return Page(items, page, total)

    async def list_slice(self, uow: UnitOfWork, request: SliceRequest) -> Slice[TagRecord]:
        async with uow.read() as conn:
            found = await TagRepository(conn).slice(Window.of_slice(request))
        return found.slice()

    async def post_counts(self, uow: UnitOfWork, tag_ids: Sequence[int]) -> dict[int, int]:
        async with uow.read() as conn:
            return await TagRepository(conn).post_counts(tag_ids)

    async def get(self, uow: UnitOfWork, actor: Actor, slug: str) -> TagRecord:
        async with uow.read() as conn:
            tag = await TagRepository(conn).by_slug(slug, reader_of(actor))
        if tag is None:
            raise NotFound(TAG_NOT_FOUND)
        return tag

    async def update(
        self,
        uow: UnitOfWork,
        actor: Actor,
        slug: str,
        changes: UpdateTagRequest,
        expected: Precondition | None = None,
    ) -> TagRecord:
        actor.require(Permission.POSTS_DELETE)
        values = changes.model_dump(exclude_unset=True)
        async with uow.write() as conn:
            repo = TagRepository(conn)
            tag = await self._held(repo, slug, expected)
            if await repo.taken(name=values.get("name"), slug=values.get("slug"), except_id=tag.id):
                raise Conflict("Another tag already has this name or slug")
            if values:
                await repo.update(tag.id, values)
            updated = await repo.by_slug(values.get("slug", slug))
            if updated is None:
                # Deleted meanwhile (PostgreSQL, READ COMMITTED): the raise undoes the rename.
                raise NotFound(TAG_NOT_FOUND)
            public = await repo.by_slug(updated.slug, reader_of(ANONYMOUS))
            await self.events.record(conn, payloads.tag_updated(updated.id, public), utcnow())
        await self.hot_reads.changed()
        return updated

    async def delete(
        self, uow: UnitOfWork, actor: Actor, slug: str, expected: Precondition | None = None
    ) -> None:
        actor.require(Permission.POSTS_DELETE)
        async with uow.write() as conn:
            repo = TagRepository(conn)
            tag = await self._held(repo, slug, expected)
            await repo.delete(tag.id)
            await self.events.record(conn, payloads.tag_deleted(tag.id), utcnow())
        await self.hot_reads.changed()

    @staticmethod
    async def _held(repo: TagRepository, slug: str, expected: Precondition | None) -> TagRecord:
        """The tag to change, its row held to the end of the transaction, and, with `expected`
        (If-Match), as the caller last read it."""
        tag = await repo.by_slug(slug) if await repo.lock(slug) else None
        if tag is None:
            raise NotFound(TAG_NOT_FOUND)
        require_current(expected, tag)
        return tag
