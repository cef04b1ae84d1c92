"""Hot anonymous reads come from a cache: no SQL when nothing changed, a change seen at once
(on every instance, through Redis), one computation however many ask at once, and nothing that
depends on the caller ever kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from pressroom.app import create_app
from pressroom.kit.hot_reads import HotReadCache, StoredReply
from pressroom.kit.shared_state import SharedState
from pressroom.services import Services
from tests.conftest import API, REDIS_TEST_URL, Person, make_settings, service_missing
from tests.posts.factories import create_post

KEEP_SECONDS = 60  # long, so that only an invalidation can make a kept reply go


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"hot_read_cache_seconds": KEEP_SECONDS}


async def test_a_repeated_anonymous_read_runs_no_sql(
    anon: httpx.AsyncClient, author: Person, count_statements: Any
) -> None:
    post = await create_post(author, tags=["Go"])
    for path in ("/posts", f"/posts/{post['id']}", "/tags", "/tags/go", "/tags/go/posts"):
        first = await anon.get(path)
        with count_statements() as counter:
            again = await anon.get(path)
            revalidated = await anon.get(path, headers={"If-None-Match": first.headers["etag"]})
            head = await anon.head(path)
        assert counter.count == 0, (path, counter.statements)
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["x-request-id"] != first.headers["x-request-id"]
        assert revalidated.status_code == 304
        assert head.content == b""
        assert head.headers["etag"] == first.headers["etag"]


async def test_signed_in_reads_never_come_from_the_cache(
    anon: httpx.AsyncClient, author: Person, stranger: Person, count_statements: Any
) -> None:
    await create_post(author)
    await anon.get("/posts")
    with count_statements() as counter:
        reply = await stranger.get("/posts")
    assert reply.status_code == 200
    assert counter.count > 0
    assert reply.headers["cache-control"] == "private"


async def test_what_a_signed_in_caller_sees_is_never_shown_to_others(
    anon: httpx.AsyncClient, author: Person
) -> None:
    await create_post(author, title="Public")
    await create_post(author, title="Draft", published=False)
    path = f"/users/{author.id}/posts"
    own = await author.get(path)
    assert {p["title"] for p in own.json()["data"]} == {"Public", "Draft"}
    assert [p["title"] for p in (await anon.get(path)).json()["data"]] == ["Public"]
    # ...and the other way: a kept anonymous reply is not what the author gets.
    assert {p["title"] for p in (await author.get(path)).json()["data"]} == {"Public", "Draft"}


async def test_a_change_is_seen_at_once(
    anon: httpx.AsyncClient, author: Person, moderator: Person
) -> None:
    post = await create_post(author, tags=["Go"])
    url = f"/posts/{post['id']}"
    await anon.get(url)
    await anon.get("/posts")
    await anon.get("/tags")
    await author.patch(url, json={"title": "Edited"})
    assert (await anon.get(url)).json()["title"] == "Edited"
    assert (await anon.get("/posts")).json()["data"][0]["title"] == "Edited"
    await moderator.patch("/tags/go", json={"name": "Golang"})
    assert (await anon.get("/tags")).json()["data"][0]["name"] == "Golang"
    # The author's profile is part of every post they wrote.
    await author.patch(f"/users/{author.id}", json={"profile": {"firstName": "Renamed"}})
    assert (await anon.get(url)).json()["author"]["profile"]["firstName"] == "Renamed"
    await author.delete(url)
    assert (await anon.get(url)).status_code == 404
    assert (await anon.get("/posts")).json()["data"] == []


async def test_many_cold_reads_at_once_compute_once(
    anon: httpx.AsyncClient, author: Person, services: Services, count_statements: Any
) -> None:
    await create_post(author)
    with count_statements() as counter:
        replies = await asyncio.gather(*(anon.get("/posts") for _ in range(10)))
    assert {r.content for r in replies} == {replies[0].content}
    assert services.hot_reads.computations == 1
    # One statement computes an anonymous page on either database (see test_query_budget).
    assert counter.count == 1, counter.statements


def reply(body: bytes) -> StoredReply:
    return StoredReply(200, (), body, '"t"', shareable=True)


async def test_a_stampede_makes_one_computation() -> None:
    """Forced: the first computation is held until all ten have asked."""
    cache = HotReadCache(SharedState(None, "test", 1.0), ttl_seconds=KEEP_SECONDS)
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def compute() -> StoredReply:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return reply(b"page")

    # Tasks run in the order made: when the first has started computing, the other nine have
    # each taken their first step too, and found the computation under way.
    readers = [asyncio.create_task(cache.fill("/posts?", compute)) for _ in range(10)]
    await started.wait()
    assert cache.waiting("/posts?")
    release.set()
    results = await asyncio.gather(*readers)
    assert calls == 1
    assert {r.body for r in results} == {b"page"}
    assert cache.get("/posts?") == results[0]


async def test_a_reply_computed_across_a_change_is_not_kept() -> None:
    cache = HotReadCache(SharedState(None, "test", 1.0), ttl_seconds=KEEP_SECONDS)
    started, release = asyncio.Event(), asyncio.Event()

    async def stale() -> StoredReply:
        started.set()
        await release.wait()
        return reply(b"before the change")

    reading = asyncio.create_task(cache.fill("/posts?", stale))
    await started.wait()
    await cache.changed()  # committed while the read was under way

    async def fresh() -> StoredReply:
        return reply(b"after the change")

    # A read that starts after the change does not wait for the one that started before it.
    assert (await cache.fill("/posts?", fresh)).body == b"after the change"
    release.set()
    assert (await reading).body == b"before the change"
    kept = cache.get("/posts?")
    assert kept is not None
    assert kept.body == b"after the change"


async def test_replies_that_may_not_be_shared_are_neither_kept_nor_shared() -> None:
    cache = HotReadCache(SharedState(None, "test", 1.0), ttl_seconds=KEEP_SECONDS)
    private = StoredReply(200, (), b"mine", '"p"', shareable=False)

    async def compute() -> StoredReply:
        return private

    assert await cache.fill("/users/me?", compute) is private
    assert cache.get("/users/me?") is None


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"pressroom-test-{uuid.uuid4().hex[:12]}"
    client = aioredis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as error:
        await client.aclose()
        service_missing("Redis", error)
    yield prefix
    await client.aclose()


async def subscribed(cache: HotReadCache) -> None:
    async with asyncio.timeout(5):
        while not cache.usable:  # noqa: ASYNC110 (a Redis subscription has no event to await)
            await asyncio.sleep(0.01)


async def test_two_instances_see_each_others_changes_within_a_second(
    database_url: str, redis_prefix: str, author: Person
) -> None:
    settings = make_settings(
        database_url,
        redis_url=REDIS_TEST_URL,
        redis_key_prefix=redis_prefix,
        hot_read_cache_seconds=KEEP_SECONDS,
    )
    first, second = create_app(settings), create_app(settings)
    caches = [app.state.services.hot_reads for app in (first, second)]
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url=API) as one,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=API) as two,
        ):
            post = await create_post(author, title="Before")
            url = f"/posts/{post['id']}"
            headers = {"Authorization": f"Bearer {author.access_token}"}
            for client, cache in zip((one, two), caches, strict=True):
                await client.get(url)  # starts the instance's subscription
                await subscribed(cache)
                await client.get(url)  # kept now
            computed = caches[1].computations
            assert (await two.get(url)).json()["title"] == "Before"
            assert caches[1].computations == computed  # served from the second's cache
            seen = caches[1].generation
            edited = await one.patch(url, json={"title": "After"}, headers=headers)
            assert edited.status_code == 200, edited.text
            assert await caches[1].generation_after(seen, timeout_seconds=1.0) > seen
            assert (await two.get(url)).json()["title"] == "After"
    finally:
        for app in (first, second):
            await app.state.services.close()
