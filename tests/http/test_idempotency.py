"""Idempotency-Key on POST: a retry replays the first reply and changes nothing; another body
under the key is 422; a retry while the first runs is 409; keys belong to their caller."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text

from pressroom.db.tables import posts, users
from pressroom.db.units import UnitOfWork
from pressroom.idempotency.service import Claim
from pressroom.kit.errors import IdempotencyKeyInUse
from pressroom.kit.idempotency import RecordedReply, caller_scope, request_fingerprint
from pressroom.posts.schemas import CreatePostRequest
from pressroom.services import Services
from tests.conftest import PASSWORD, Person, assert_error

BODY = {"title": "Once", "content": "only once", "published": True}


async def post_count(services: Services) -> int:
    async with services.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(posts)) or 0)


def same_reply(first: httpx.Response, second: httpx.Response) -> None:
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second.headers.get("location") == first.headers.get("location")


async def test_a_retry_replays_the_first_reply_and_makes_nothing(
    author: Person, services: Services
) -> None:
    key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = await author.post("/posts", json=BODY, headers=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # Key order and spacing do not make it another request.
    again = await author.post(
        "/posts",
        content=b'{"published": true,   "content": "only once", "title": "Once"}',
        headers={**key, "Content-Type": "application/json"},
    )
    same_reply(first, again)
    assert again.headers["idempotent-replayed"] == "true"
    assert await post_count(services) == 1
    # The replay is the first reply even after the post changed.
    await author.patch(first.headers["location"].removeprefix("/api/v1"), json={"title": "Ed"})
    same_reply(first, await author.post("/posts", json=BODY, headers=key))


async def test_another_body_under_the_key_is_422(author: Person, services: Services) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert (await author.post("/posts", json=BODY, headers=key)).status_code == 201
    reply = await author.post("/posts", json={**BODY, "title": "Other"}, headers=key)
    assert_error(reply, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await post_count(services) == 1


async def test_keys_belong_to_their_caller(
    author: Person, stranger: Person, services: Services
) -> None:
    key = {"Idempotency-Key": "shared-key"}
    mine = await author.post("/posts", json=BODY, headers=key)
    theirs = await stranger.post("/posts", json=BODY, headers=key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.headers["location"] != theirs.headers["location"]
    assert await post_count(services) == 2


async def test_without_a_key_each_post_is_new(author: Person, services: Services) -> None:
    await author.post("/posts", json=BODY)
    await author.post("/posts", json=BODY)
    assert await post_count(services) == 2


@pytest.mark.parametrize("value", ["", '""', "x" * 256, "caf\u00e9".encode()])
async def test_a_bad_key_is_400(author: Person, value: str | bytes, services: Services) -> None:
    reply = await author.http.post(
        "/posts",
        json=BODY,
        headers=[("Authorization", f"Bearer {author.access_token}"), ("Idempotency-Key", value)],
    )
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in error["details"]
    assert await post_count(services) == 0


async def test_a_refused_request_leaves_its_key_free(author: Person, services: Services) -> None:
    """Nothing was made, so nothing is replayed: the corrected request runs under the key."""
    key = {"Idempotency-Key": "fix-and-retry"}
    empty = {"title": "Empty", "content": "  ", "published": True}
    assert_error(await author.post("/posts", json=empty, headers=key), 422, "UNPROCESSABLE_ENTITY")
    fixed = await author.post("/posts", json={**empty, "content": "now"}, headers=key)
    assert fixed.status_code == 201, fixed.text
    assert await post_count(services) == 1


async def test_a_sign_up_retried_with_its_key_replays(
    anon: httpx.AsyncClient, services: Services
) -> None:
    body = {
        "email": "retry@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "Re", "lastName": "Try"},
    }
    key = {"Idempotency-Key": "signup-1"}
    first = await anon.post("/users", json=body, headers=key)
    assert first.status_code == 201, first.text
    again = await anon.post("/users", json=body, headers=key)
    same_reply(first, again)  # not a 409 "email taken": the retry is the same sign-up
    async with services.db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(users)) == 1


async def test_a_retry_while_the_first_runs_is_409(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """Forced: the first request holds the key (claimed, not yet completed) when the retry
    comes; the retry is told to come back, and nothing is made."""
    key = "in-flight"
    body = orjson.dumps(BODY)
    fingerprint = request_fingerprint(services.idempotency_secret, "POST", "/api/v1/posts", body)
    assert isinstance(
        await services.idempotency.begin(uow, caller_scope(author.id), key, fingerprint), Claim
    )
    reply = await author.post(
        "/posts",
        content=body,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert_error(reply, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert await post_count(services) == 0


async def test_twenty_concurrent_posts_with_one_key_make_one_post(
    author: Person, services: Services
) -> None:
    """Each of the twenty gets either the one 201 or, while the first runs, a 409 that tells it
    to retry; retried, every one gets the same 201: twenty identical replies in the end."""
    key = {"Idempotency-Key": "twenty"}
    replies = await asyncio.gather(
        *(author.post("/posts", json=BODY, headers=key) for _ in range(20))
    )
    created = [r for r in replies if r.status_code == 201]
    assert created, [r.text for r in replies]
    for reply in replies:
        if reply.status_code != 201:
            assert_error(reply, 409, "IDEMPOTENCY_KEY_IN_USE")
    final = [
        r if r.status_code == 201 else await author.post("/posts", json=BODY, headers=key)
        for r in replies
    ]
    for reply in final:
        same_reply(created[0], reply)
    assert await post_count(services) == 1


async def call_dropping_the_reply(app: Any, person: Person, key: str) -> None:
    """POST /posts as a client whose connection dies before the reply comes back: the server
    has committed, the client saw nothing (sending the reply fails)."""
    body = orjson.dumps(BODY)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/posts",
        "raw_path": b"/api/v1/posts",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {person.access_token}".encode()),
            (b"idempotency-key", key.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            raise OSError("connection reset by peer")

    # The server logs the failed send; whether it raises on is up to its middleware.
    with contextlib.suppress(OSError, RuntimeError):
        await app(scope, receive, send)


async def test_a_retry_after_a_lost_reply_replays_instead_of_posting_again(
    app: Any, author: Person, services: Services
) -> None:
    await call_dropping_the_reply(app, author, "lost-reply")
    assert await post_count(services) == 1
    retry = await author.post("/posts", json=BODY, headers={"Idempotency-Key": "lost-reply"})
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert await post_count(services) == 1


async def test_the_reply_is_stored_in_the_posts_own_transaction(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """There is no moment at which the post exists and its key has no reply: a crash anywhere
    after the commit leaves a reply to replay. Checked by making the reply's recording fail
    (the key taken over meanwhile): the post is undone with it."""
    key = "taken-over"
    body = orjson.dumps(BODY)
    fingerprint = request_fingerprint(services.idempotency_secret, "POST", "/api/v1/posts", body)
    claim = await services.idempotency.begin(uow, caller_scope(author.id), key, fingerprint)
    assert isinstance(claim, Claim)
    async with services.db.write() as conn:  # another attempt took the key over
        await conn.execute(text("UPDATE idempotency_keys SET attempt = 'someone-else'"))
    actor = await services.auth.authenticate(uow, author.access_token)
    receipt = claim.receipt(lambda _post: RecordedReply(201, b"{}"))
    with pytest.raises(IdempotencyKeyInUse):
        await services.posts.create(uow, actor, CreatePostRequest.model_validate(BODY), receipt)
    assert await post_count(services) == 0


async def test_an_expired_key_is_a_new_key(author: Person, services: Services) -> None:
    key = {"Idempotency-Key": "old"}
    assert (await author.post("/posts", json=BODY, headers=key)).status_code == 201
    async with services.db.write() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET expires_at = created_at - interval '1 day'")
            if not services.db.is_sqlite
            else text("UPDATE idempotency_keys SET expires_at = '2000-01-01 00:00:00'")
        )
    again = await author.post("/posts", json=BODY, headers=key)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert await post_count(services) == 2
    async with services.db.read() as conn:  # the expired row went, the new one stays
        assert await conn.scalar(text("SELECT count(*) FROM idempotency_keys")) == 1


async def test_a_claim_left_by_a_dead_request_lapses(
    author: Person, services: Services, uow: UnitOfWork
) -> None:
    """A request that died before its commit completed nothing; once its claim lapses, a retry
    runs afresh (before then it is 409, as above)."""
    key = "dead"
    body = orjson.dumps(BODY)
    fingerprint = request_fingerprint(services.idempotency_secret, "POST", "/api/v1/posts", body)
    await services.idempotency.begin(uow, caller_scope(author.id), key, fingerprint)
    async with services.db.write() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET locked_until = created_at - interval '1 minute'")
            if not services.db.is_sqlite
            else text("UPDATE idempotency_keys SET locked_until = '2000-01-01 00:00:00'")
        )
    reply = await author.post(
        "/posts", content=body, headers={"Idempotency-Key": key, "Content-Type": "application/json"}
    )
    assert reply.status_code == 201, reply.text
    assert await post_count(services) == 1
