"""Rules about posts: who sees drafts, who edits and deletes what, what publishing requires.

"May a user edit another's post?" is answered here and nowhere else (`_may_edit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pressroom.auth.actor import Actor, reader_of
from pressroom.auth.permissions import Permission
from pressroom.config import Settings
from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.events import payloads
from pressroom.events.models import EventType
from pressroom.events.recorder import EventRecorder
from pressroom.kit.clock import utcnow
from pressroom.kit.conditional import Precondition, require_current
from pressroom.kit.cursors import Slice, SliceRequest
from pressroom.kit.errors import Forbidden, NotFound, Unprocessable, ValidationFailed
from pressroom.kit.hot_reads import HotReadCache
from pressroom.kit.idempotency import Receipt
from pressroom.kit.observability import Metrics
from pressroom.kit.pagination import Page, PageRequest
from pressroom.kit.sorting import SortField, parse_sort
from pressroom.kit.windows import Window
from pressroom.posts.models import CounterRepair, PostFilter, PostQuery, PostRecord
from pressroom.posts.repository import PostRepository
from pressroom.posts.schemas import CreatePostRequest, UpdatePostRequest
from pressroom.posts.sorting import DEFAULT_DRAFT_SORT, DEFAULT_PUBLISHED_SORT, PostSortKey
from pressroom.tags.models import TagRef
from pressroom.tags.repository import TagRepository
from pressroom.tags.slugs import slugify
from pressroom.users.service import require_live_account, require_verified_email

POST_NOT_FOUND = "Post not found"
EMPTY_POST = "A post needs content before it can be published"


def _may_edit(actor: Actor, post: PostRecord) -> bool:
    own = actor.is_user(post.author.id) and actor.can(Permission.POSTS_WRITE)
    return own or actor.can(Permission.POSTS_EDIT_ANY)


def _may_delete(actor: Actor, post: PostRecord) -> bool:
    return actor.is_user(post.author.id) or actor.can(Permission.POSTS_DELETE)


class PostService:
    def __init__(
        self, metrics: Metrics, settings: Settings, hot_reads: HotReadCache, events: EventRecorder
    ) -> None:
        self.metrics = metrics
        self.verification_required = settings.email_verification_required
        self.hot_reads = hot_reads
        self.events = events

    async def repair_counters(
        self,
        uow: UnitOfWork,
    ) -> list[CounterRepair]:
        """The kept counters set from the rows they count (an operator's command: no actor);
        the ones that were off. `postCount` and other totals are counted live: nothing to keep."""
        async with uow.write() as conn:
            repairs = await PostRepository(conn).repair_published_total()
        await self.hot_reads.changed()
        return repairs

    async def list_posts(
        self,
        uow: UnitOfWork,
        actor: Actor,
        page: PageRequest,
        query: PostFilter,
        sort: str | None = None,
    ) -> Page[PostRecord]:
        fields = parse_sort(
            sort, PostSortKey, DEFAULT_PUBLISHED_SORT if query.published else DEFAULT_DRAFT_SORT
        )
        if not _may_ask(actor, query):
            return Page([], page, 0)
        wanted = PostQuery(reader_of(actor), query, fields)
        async with uow.read() as conn:
            found = await PostRepository(conn).find(wanted, Window.of_page(page))
        return found.page(page)

    async def list_slice(
        self, uow: UnitOfWork, actor: Actor, request: SliceRequest, query: PostFilter
    ) -> Slice[PostRecord]:
        """The cursor-paginated post list (GraphQL) under `list_posts`' rules: published posts
        newest published first, or the drafts the actor may see, newest first."""
        if not _may_ask(actor, query):
            return Slice.empty()
        key = PostSortKey.PUBLISHED_AT if query.published else PostSortKey.CREATED_AT
        wanted = PostQuery(reader_of(actor), query, (SortField(key, descending=True),))
        async with uow.read() as conn:
            found = await PostRepository(conn).find(wanted, Window.of_slice(request))
        return found.slice()

    async def slices_by_authors(
        self, uow: UnitOfWork, actor: Actor, user_ids: Sequence[int], request: SliceRequest
    ) -> dict[int, Slice[PostRecord]]:
        """Many users' posts at once, newest first, each under `list_by_author`'s rule:
        published posts, plus drafts for their author and moderators."""
        async with uow.read() as conn:
            found = await PostRepository(conn).lists_by_author(
                reader_of(actor), user_ids, Window.of_slice(request)
            )
        return {user_id: posts.slice() for user_id, posts in found.items()}

    async def list_by_author(
        self,
        uow: UnitOfWork,
        actor: Actor,
        user_id: int,
        page: PageRequest,
        sort: str | None = None,
    ) -> Page[PostRecord]:
        """A user's published posts, and their drafts too for themself and moderators."""
        fields = parse_sort(sort, PostSortKey, DEFAULT_DRAFT_SORT)
        wanted = PostQuery(reader_of(actor), PostFilter(published=None, author_id=user_id), fields)
        async with uow.read() as conn:
            repo = PostRepository(conn)
            found = await repo.find(wanted, Window.of_page(page))
            # Only an empty page needs telling "no posts" apart from "no such user".
            if not found.items and not await repo.user_exists(user_id):
                raise NotFound("User not found")
        return found.page(page)

    async def list_by_tag(
        self, uow: UnitOfWork, actor: Actor, slug: str, page: PageRequest, sort: str | None = None
    ) -> Page[PostRecord]:
        async with uow.read() as conn:
            if await TagRepository(conn).id_for_slug(slug, reader_of(actor)) is None:
                raise NotFound("Tag not found")
        return await self.list_posts(uow, actor, page, PostFilter(tag_slug=slug), sort)

    async def get(self, uow: UnitOfWork, actor: Actor, post_id: int) -> PostRecord:
        async with uow.read() as conn:
            post = await PostRepository(conn).get(post_id, reader_of(actor))
        if post is None:
            raise NotFound(POST_NOT_FOUND)
        return post

    async def create(
        self,
        uow: UnitOfWork,
        actor: Actor,
        data: CreatePostRequest,
        receipt: Receipt[PostRecord] | None = None,
    ) -> PostRecord:
        """A new post. With a `receipt` (an Idempotency-Key), the reply is recorded in the
        post's own transaction: a retry after a crash finds it, never a post without it."""
        actor.require(Permission.POSTS_WRITE)
        if data.published and not data.content.strip():
            raise Unprocessable(EMPTY_POST)
        tag_names = _tag_names(data.tags)
        async with uow.write() as conn:
            # Checked and held in the insert's transaction: an author deleted meanwhile gets a
            # 401 and no post, never a post stored behind a 500 (docs/security.md, races).
            user_id = await require_live_account(conn, actor)
            if self.verification_required:
                await require_verified_email(conn, user_id)
            repo = PostRepository(conn)
            now = utcnow()
            post_id = await repo.create(
                user_id=user_id,
                title=data.title,
                content=data.content,
                published=data.published,
                now=now,
            )
            await self._attach_tags(repo, post_id, tag_names)
            post = _found(await repo.get(post_id))
            await self.events.record(conn, payloads.post_event(EventType.POST_CREATED, post), now)
            if post.published:
                await self.events.record(
                    conn, payloads.post_event(EventType.POST_PUBLISHED, post), now
                )
            if receipt is not None:
                await receipt.record(conn, post)
        await self.hot_reads.changed()
        if post.published:
            self.metrics.count("post_published")
        return post

    async def update(
        self,
        uow: UnitOfWork,
        actor: Actor,
        post_id: int,
        changes: UpdatePostRequest,
        expected: Precondition | None = None,
    ) -> PostRecord:
        """An edit; with `expected` (If-Match, GraphQL's expectedVersion), only of the post as
        the editor last read it, decided with the row held: a stale one changes nothing."""
        actor.require_user_id()
        given = changes.given()
        tag_names = (
            _tag_names(changes.tags) if "tags" in given and changes.tags is not None else None
        )
        async with uow.write() as conn:
            repo = PostRepository(conn)
            post = await self._locked(conn, repo, actor, post_id)
            if not _may_edit(actor, post):
                raise Forbidden("You may only edit your own posts")
            require_current(expected, post)
            now = utcnow()
            values: dict[str, Any] = {
                field: getattr(changes, field) for field in ("title", "content") if field in given
            }
            publishing = False
            flipped = False
            if "published" in given and changes.published != post.published:
                flipped = True
                values["published"] = changes.published
                values["published_at"] = now if changes.published else None
                publishing = bool(changes.published)
            if publishing and self.verification_required:
                await require_verified_email(conn, actor.require_user_id())
            content = values.get("content", post.content)
            if values.get("published", post.published) and not content.strip():
                raise Unprocessable(EMPTY_POST)
            values["updated_at"] = now
            await repo.update(post_id, values)
            if tag_names is not None:
                await self._attach_tags(repo, post_id, tag_names)
            # The post's author may have been deleted meanwhile (their row is not held): the post
            # left with them, so this edit is undone and answered as for a missing post.
            updated = _found(await repo.get(post_id))
            await self.events.record(
                conn, payloads.post_event(EventType.POST_UPDATED, updated), now
            )
            if flipped:
                flip = EventType.POST_PUBLISHED if publishing else EventType.POST_UNPUBLISHED
                await self.events.record(conn, payloads.post_event(flip, updated), now)
        await self.hot_reads.changed()
        if publishing:
            self.metrics.count("post_published")
        return updated

    async def delete(
        self, uow: UnitOfWork, actor: Actor, post_id: int, expected: Precondition | None = None
    ) -> None:
        actor.require_user_id()
        async with uow.write() as conn:
            repo = PostRepository(conn)
            post = await self._locked(conn, repo, actor, post_id)
            if not _may_delete(actor, post):
                raise Forbidden("You may only delete your own posts")
            require_current(expected, post)
            await repo.delete(post_id)
            await self.events.record(conn, payloads.post_deleted(post_id), utcnow())
        await self.hot_reads.changed()

    async def _locked(
        self, conn: Connection, repo: PostRepository, actor: Actor, post_id: int
    ) -> PostRecord:
        """The post to change, its row held to the end of the transaction, so an edit or delete
        racing this one waits and then finds the post as this one left it (gone: 404).
        The actor's own account is checked first, held the same way: deleted meanwhile, 401."""
        await require_live_account(conn, actor)
        post = await repo.get(post_id, reader_of(actor)) if await repo.lock(post_id) else None
        if post is None:
            raise NotFound(POST_NOT_FOUND)
        return post

    async def _attach_tags(
        self, repo: PostRepository, post_id: int, names: list[tuple[str, str]]
    ) -> list[TagRef]:
        found = await repo.tags.ensure(names)
        await repo.tags.set_post_tags(post_id, [t.id for t in found])
        return found


def _found(post: PostRecord | None) -> PostRecord:
    """A post read back inside its write transaction; gone means 404, and the raise undoes
    the transaction."""
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    return post


def _may_ask(actor: Actor, query: PostFilter) -> bool:
    """Anonymous callers may ask for drafts, and are answered with an empty list (docs/api.md):
    no statement runs. Which drafts others see is the repository's to derive."""
    return query.published is not False or actor.is_authenticated


def _tag_names(names: list[str]) -> list[tuple[str, str]]:
    """(name, slug) pairs, first spelling kept when two names give one slug."""
    pairs: list[tuple[str, str]] = []
    for index, raw in enumerate(names):
        name = raw.strip()
        slug = slugify(name)
        if not slug:
            raise ValidationFailed.on(f"tags.{index}", "must contain a letter or a digit")
        if all(s != slug and n.lower() != name.lower() for n, s in pairs):
            pairs.append((name, slug))
    return pairs
