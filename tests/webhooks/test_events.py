"""Events: recorded in the change's own transaction, carrying only what an anonymous reader may
see, one for each change SPEC'd (users, posts, tags)."""

from __future__ import annotations

import orjson
import pytest

from pressroom.events.models import Event, EventType
from pressroom.jobs.worker import Worker
from pressroom.kit.clock import utcnow
from pressroom.services import Services
from tests.conftest import Person
from tests.webhooks.conftest import recorded_events, subscribe
from tests.webhooks.receiver import Receiver

SECRET_TITLE = "Merger with Acme, do not leak"
SECRET_CONTENT = "The price is 42 million"


class Boom(Exception):
    pass


async def test_a_rolled_back_change_emits_nothing(
    services: Services, admin: Person, receiver: Receiver, worker: Worker
) -> None:
    await subscribe(admin, receiver.url, "post.created")
    before = await recorded_events(services)

    async def change_that_fails() -> None:
        async with services.db.write() as conn:
            await services.events.record(conn, Event(EventType.POST_CREATED, {"id": 1}), utcnow())
            raise Boom

    with pytest.raises(Boom):
        await change_that_fails()
    assert await recorded_events(services) == before
    await worker.drain()
    assert receiver.arrivals == []


async def test_a_refused_change_emits_nothing(
    services: Services, admin: Person, author: Person, stranger: Person
) -> None:
    post = (await author.post("/posts", json={"title": "T", "content": "C"})).json()
    before = await recorded_events(services)
    assert (await stranger.patch(f"/posts/{post['id']}", json={"title": "X"})).status_code == 404
    assert (
        await author.patch(f"/posts/{post['id']}", json={"content": "", "published": True})
    ).status_code == 422
    assert await recorded_events(services) == before


async def test_a_drafts_events_leak_no_content(
    services: Services,
    admin: Person,
    author: Person,
    receiver: Receiver,
    worker: Worker,
) -> None:
    await subscribe(admin, receiver.url, *[t.value for t in EventType])
    body = {"title": SECRET_TITLE, "content": SECRET_CONTENT, "tags": ["Secret Project"]}
    draft = (await author.post("/posts", json=body)).json()
    await author.patch(f"/posts/{draft['id']}", json={"content": SECRET_CONTENT + "!"})
    await author.delete(f"/posts/{draft['id']}")
    await worker.drain()

    sent = [orjson.loads(a.body) for a in receiver.arrivals]
    assert [(e["type"], e["data"]) for e in sent] == [
        ("post.created", {"id": draft["id"]}),
        ("post.updated", {"id": draft["id"]}),
        ("post.deleted", {"id": draft["id"]}),
    ]
    for arrival in receiver.arrivals:
        assert b"Merger" not in arrival.body
        assert b"42 million" not in arrival.body
        assert b"secret" not in arrival.body.lower()


async def test_post_events_follow_publication(
    services: Services, author: Person, anon: object
) -> None:
    draft = (await author.post("/posts", json={"title": SECRET_TITLE, "content": "C"})).json()
    published = (await author.patch(f"/posts/{draft['id']}", json={"published": True})).json()
    await author.patch(f"/posts/{draft['id']}", json={"published": False})
    await author.delete(f"/posts/{draft['id']}")

    events = await recorded_events(services)
    post_id = draft["id"]
    assert events == [
        ("user.created", events[0][1]),
        ("post.created", {"id": post_id}),
        ("post.updated", published),
        ("post.published", published),
        ("post.updated", {"id": post_id}),
        ("post.unpublished", {"id": post_id}),
        ("post.deleted", {"id": post_id}),
    ]


async def test_publishing_at_creation_records_created_and_published(
    services: Services, author: Person
) -> None:
    post = (
        await author.post("/posts", json={"title": "T", "content": "C", "published": True})
    ).json()
    events = await recorded_events(services)
    assert events[-2:] == [("post.created", post), ("post.published", post)]


async def test_user_events_carry_the_public_view(
    services: Services, admin: Person, people: object, anon: object
) -> None:
    from tests.conftest import People

    assert isinstance(people, People)
    user = await people.make(first_name="Eve", last_name="Example")
    public = (await admin.get(f"/users/{user.id}")).json()
    await user.patch(f"/users/{user.id}", json={"profile": {"bio": "Hello"}})
    await user.delete(f"/users/{user.id}")

    events = [e for e in await recorded_events(services) if e[0].startswith("user.")]
    created, updated, deleted = events[-3:]
    assert created == ("user.created", {k: public[k] for k in ("id", "profile", "createdAt")})
    assert updated[0] == "user.updated"
    assert set(updated[1]) == {"id", "profile", "createdAt"}
    assert updated[1]["profile"]["bio"] == "Hello"
    assert deleted == ("user.deleted", {"id": user.id})
    for _type, data in events:
        assert "email" not in orjson.dumps(data).decode()
        assert "roles" not in data


async def test_tag_events_hide_a_tag_known_only_from_drafts(
    services: Services, author: Person, moderator: Person
) -> None:
    await author.post("/posts", json={"title": "T", "content": "C", "tags": ["Hidden Plan"]})
    shown = await author.post(
        "/posts", json={"title": "T", "content": "C", "published": True, "tags": ["Open"]}
    )
    assert shown.status_code == 201
    hidden = (await moderator.patch("/tags/hidden-plan", json={"name": "Hidden Plan 2"})).json()
    opened = (await moderator.patch("/tags/open", json={"name": "Open Door"})).json()
    await moderator.delete("/tags/open")

    tag_events = [e for e in await recorded_events(services) if e[0].startswith("tag.")]
    assert tag_events == [
        ("tag.updated", {"id": hidden["id"]}),
        ("tag.updated", opened),
        ("tag.deleted", {"id": opened["id"]}),
    ]
