"""Every role sees exactly the posts it may, in every post list and in every list's total.

Hypothesis draws a set of posts (whose, published or draft, tagged or not, some by an author
since deleted) and each caller reads every list that shows posts, over REST and GraphQL; each
answer is compared with the rule of docs/api.md computed here in Python from the drawn set.
The published list's total is the one the database keeps, the others are counted live: both
must agree with the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from pressroom.auth.permissions import Role
from pressroom.db.tables import post_tags, posts, tags, users
from pressroom.services import Services
from tests.conftest import People, Person
from tests.graphql.conftest import data_of

OWNERS = ("author", "stranger", "moderator", "gone")


@dataclass(frozen=True)
class Drawn:
    owner: str
    published: bool
    tagged: bool


POSTS = st.lists(
    st.builds(Drawn, st.sampled_from(OWNERS), st.booleans(), st.booleans()), max_size=8
)


@dataclass
class Cast:
    """The callers, and the account whose posts stay behind it, deleted."""

    people: dict[str, Person]
    anon: httpx.AsyncClient
    gone_id: int
    tag_id: int

    def owner_id(self, owner: str) -> int:
        return self.gone_id if owner == "gone" else self.people[owner].id

    def callers(self) -> dict[str, Any]:
        return {"anon": self.anon, **self.people}


@pytest.fixture
async def cast(services: Services, people: People, anon: httpx.AsyncClient) -> Cast:
    members = {
        "author": await people.make(),
        "stranger": await people.make(),
        "moderator": await people.make(Role.MODERATOR),
        "admin": await people.make(Role.ADMIN),
    }
    gone = await people.make()
    async with services.db.write() as conn:
        await conn.execute(
            update(users).where(users.c.id == gone.id).values(deleted_at=datetime.now(UTC))
        )
        tag_id = await conn.scalar(
            insert(tags).values(name="Topic", slug="topic").returning(tags.c.id)
        )
    assert tag_id is not None
    return Cast(members, anon, gone.id, tag_id)


async def store(services: Services, cast: Cast, drawn: list[Drawn]) -> list[tuple[int, Drawn]]:
    """The drawn posts, written straight to the tables (the kept total's triggers run)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    stored = []
    async with services.db.write() as conn:
        await conn.execute(delete(post_tags))
        await conn.execute(delete(posts))
        for n, post in enumerate(drawn):
            moment = start + timedelta(minutes=n)
            post_id = await conn.scalar(
                insert(posts)
                .values(
                    user_id=cast.owner_id(post.owner),
                    title=f"Post {n}",
                    content="Body",
                    published=post.published,
                    published_at=moment if post.published else None,
                    created_at=moment,
                    updated_at=moment,
                )
                .returning(posts.c.id)
            )
            assert post_id is not None
            if post.tagged:
                await conn.execute(insert(post_tags).values(post_id=post_id, tag_id=cast.tag_id))
            stored.append((post_id, post))
    return stored


def may_see(caller: str, post: Drawn) -> bool:
    """docs/api.md: a published post of a live author is anyone's; a draft its author's and
    moderators' and admins'; nothing of a deleted author is anyone's."""
    if post.owner == "gone":
        return False
    return post.published or caller in (post.owner, "moderator", "admin")


def expected_lists(caller: str, cast: Cast, stored: list[tuple[int, Drawn]]) -> dict[str, set[int]]:
    seen = [(post_id, post) for post_id, post in stored if may_see(caller, post)]
    lists = {
        "/posts": {i for i, p in seen if p.published},
        "/posts?tag=topic": {i for i, p in seen if p.published and p.tagged},
        "/tags/topic/posts": {i for i, p in seen if p.published and p.tagged},
        f"/posts?author={cast.people['author'].id}": {
            i for i, p in seen if p.published and p.owner == "author"
        },
        # Anonymous callers get an empty list of drafts (not a refusal).
        "/posts?published=false": {i for i, p in seen if not p.published},
        f"/posts?published=false&author={cast.people['stranger'].id}": {
            i for i, p in seen if not p.published and p.owner == "stranger"
        },
    }
    for owner in ("author", "moderator"):
        owner_id = cast.people[owner].id
        lists[f"/users/{owner_id}/posts"] = {i for i, p in seen if p.owner == owner}
    return lists


async def rest_list(caller: Any, path: str) -> tuple[set[int], int]:
    joiner = "&" if "?" in path else "?"
    reply = await caller.get(f"{path}{joiner}limit=100")
    if reply.status_code == 404 and path.startswith("/tags/"):
        return set(), 0  # the tag is on no post this caller may see: it is unknown to them
    assert reply.status_code == 200, (path, reply.text)
    body = reply.json()
    return {post["id"] for post in body["data"]}, body["pagination"]["total"]


GRAPHQL_LISTS = {
    "/posts": "{ posts(first: 100) { totalCount edges { node { id } } } }",
    "/posts?published=false": (
        "{ posts(first: 100, filter: {published: false}) { totalCount edges { node { id } } } }"
    ),
}
OWN_POSTS = "{ currentUser { posts(first: 100) { totalCount edges { node { id } } } } }"
USER_POSTS = (
    "query($id: ID!) { user(id: $id) { posts(first: 100) { totalCount edges { node { id } } } } }"
)


@given(drawn=POSTS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
async def test_every_role_sees_exactly_what_it_may_in_lists_and_totals(
    services: Services, cast: Cast, drawn: list[Drawn]
) -> None:
    stored = await store(services, cast, drawn)
    for name, caller in cast.callers().items():
        for path, expected in expected_lists(name, cast, stored).items():
            found, total = await rest_list(caller, path)
            assert found == expected, (name, path, drawn)
            assert total == len(expected), (name, path, drawn)
        for path, query in GRAPHQL_LISTS.items():
            connection = (await data_of(caller, query))["posts"]
            expected = expected_lists(name, cast, stored)[path]
            assert {int(edge["node"]["id"]) for edge in connection["edges"]} == expected, (
                name,
                path,
                drawn,
            )
            assert connection["totalCount"] == len(expected), (name, path, drawn)
        if name != "anon":
            connection = (await data_of(caller, OWN_POSTS))["currentUser"]["posts"]
            own = {i for i, p in stored if p.owner == name}
            assert {int(edge["node"]["id"]) for edge in connection["edges"]} == own
            assert connection["totalCount"] == len(own)
            # Another user's posts, batched with the same rule (GraphQL's loader).
            author_id = cast.people["author"].id
            reply = await data_of(caller, USER_POSTS, {"id": str(author_id)})
            connection = reply["user"]["posts"]
            theirs = {i for i, p in stored if p.owner == "author" and may_see(name, p)}
            assert {int(edge["node"]["id"]) for edge in connection["edges"]} == theirs
            assert connection["totalCount"] == len(theirs)
