"""CPU to turn a page of 20 posts into the bytes of its response, four ways.

    .venv/bin/python bench/serialisation.py            # the msgspec rows need msgspec installed

1. hand-written dicts rendered by orjson (what the endpoints did before kit/output.py);
2. the `@output` shapes (kit/output.py): pydantic-core's serializer compiled from the records
   themselves, as the endpoints now do;
3. msgspec Structs built from the records, encoded by msgspec (timestamps formatted by
   `rfc3339`: msgspec writes no fractional digits for a whole second, the API always six);
4. msgspec Structs holding native datetimes: NOT byte-identical (the floor, for scale).

All but the last must give the same bytes; the script checks it. Best of 7 repeats.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from pressroom.kit.clock import rfc3339
from pressroom.kit.output import json_bytes
from pressroom.kit.pagination import Page, PageRequest
from pressroom.posts.models import PostRecord
from pressroom.posts.schemas import PostPage
from pressroom.tags.models import TagRef
from pressroom.users.models import Author, Profile


def page_of_posts() -> Page[PostRecord]:
    now = datetime(2026, 12, 4, 18, 0, 0, 123456, tzinfo=UTC)
    whole_second = datetime(2026, 12, 4, 18, 0, 0, tzinfo=UTC)
    posts = [
        PostRecord(
            id=i,
            title=f"Title {i} ✓",
            content="Body text. " * 40,
            published=True,
            published_at=whole_second if i % 5 == 0 else now,
            author=Author(i, Profile("Ann", "Author", None, "Writes")),
            tags=tuple(TagRef(t, f"Tag {t}", f"tag-{t}") for t in range(3)),
            created_at=now,
            updated_at=now,
        )
        for i in range(1, 21)
    ]
    return Page(posts, PageRequest(1, 20), 8946)


def hand_written(page: Page[PostRecord]) -> bytes:
    def post_json(post: PostRecord) -> dict[str, Any]:
        profile = post.author.profile
        return {
            "id": post.id,
            "title": post.title,
            "content": post.content,
            "published": post.published,
            "publishedAt": rfc3339(post.published_at),
            "author": {
                "id": post.author.id,
                "profile": {
                    "firstName": profile.first_name,
                    "lastName": profile.last_name,
                    "avatarUrl": profile.avatar_url,
                    "bio": profile.bio,
                },
            },
            "tags": [{"id": t.id, "name": t.name, "slug": t.slug} for t in post.tags],
            "createdAt": rfc3339(post.created_at),
            "updatedAt": rfc3339(post.updated_at),
        }

    p = page.pagination()
    pagination = {"page": p.page, "limit": p.limit, "total": p.total, "totalPages": p.total_pages}
    data = [post_json(post) for post in page.items]
    return orjson.dumps({"data": data, "pagination": pagination})


def output_shapes(page: Page[PostRecord]) -> bytes:
    return json_bytes(PostPage(page.items, page.pagination()))


def msgspec_ways(page: Page[PostRecord]) -> dict[str, Callable[[], bytes]]:
    try:
        import msgspec
    except ImportError:
        print("(msgspec is not installed: `.venv/bin/pip install msgspec` for its rows)")
        return {}

    class ProfileS(msgspec.Struct, rename="camel"):
        first_name: str
        last_name: str
        avatar_url: str | None
        bio: str | None

    class AuthorS(msgspec.Struct):
        id: int
        profile: ProfileS

    class TagS(msgspec.Struct):
        id: int
        name: str
        slug: str

    class PostS(msgspec.Struct, rename="camel"):
        id: int
        title: str
        content: str
        published: bool
        published_at: str | None
        author: AuthorS
        tags: list[TagS]
        created_at: str
        updated_at: str

    class NativePostS(msgspec.Struct, rename="camel"):
        id: int
        title: str
        content: str
        published: bool
        published_at: datetime | None
        author: AuthorS
        tags: list[TagS]
        created_at: datetime
        updated_at: datetime

    class PaginationS(msgspec.Struct, rename="camel"):
        page: int
        limit: int
        total: int
        total_pages: int

    class PageS(msgspec.Struct):
        data: list[Any]
        pagination: PaginationS

    encoder = msgspec.json.Encoder()

    def author(post: PostRecord) -> AuthorS:
        p = post.author.profile
        return AuthorS(post.author.id, ProfileS(p.first_name, p.last_name, p.avatar_url, p.bio))

    def built_from_records() -> bytes:
        data = [
            PostS(
                post.id,
                post.title,
                post.content,
                post.published,
                rfc3339(post.published_at),
                author(post),
                [TagS(t.id, t.name, t.slug) for t in post.tags],
                rfc3339(post.created_at) or "",
                rfc3339(post.updated_at) or "",
            )
            for post in page.items
        ]
        p = page.pagination()
        return encoder.encode(PageS(data, PaginationS(p.page, p.limit, p.total, p.total_pages)))

    native = [
        NativePostS(
            post.id,
            post.title,
            post.content,
            post.published,
            post.published_at,
            author(post),
            [TagS(t.id, t.name, t.slug) for t in post.tags],
            post.created_at,
            post.updated_at,
        )
        for post in page.items
    ]

    def native_structs() -> bytes:
        p = page.pagination()
        return encoder.encode(PageS(native, PaginationS(p.page, p.limit, p.total, p.total_pages)))

    return {
        "msgspec Structs built from the records": built_from_records,
        "msgspec Structs, native datetimes (not byte-identical)": native_structs,
    }


def main() -> None:
    page = page_of_posts()
    ways: dict[str, Callable[[], bytes]] = {
        "hand-written dicts + orjson (before)": lambda: hand_written(page),
        "@output shapes, pydantic-core (now)": lambda: output_shapes(page),
        **msgspec_ways(page),
    }
    expected = hand_written(page)
    for name, way in ways.items():
        if "not byte-identical" not in name:
            assert way() == expected, name
        best = min(timeit.repeat(way, number=2000, repeat=7)) / 2000 * 1e6
        print(f"{name:58} {best:7.1f} µs per 20-post page")


if __name__ == "__main__":
    main()
