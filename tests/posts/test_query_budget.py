"""Post lists cost the same few SQL statements whatever the page size: no N+1 on authors or tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pressroom.db.tables import post_tags, posts, tags
from pressroom.services import Services
from tests.conftest import Person

POSTS = 120
TAGS_PER_POST = 3
# On both databases a page is one statement: its rows with authors and tags, and the total
# (SQLite read the tags of the page's posts with a second one until issue 16). So is one post.
READ_STATEMENTS = 1


def budget(services: Services, caller: Any) -> int:
    """Statements for a post or a page, plus the session check for a signed-in caller."""
    signed_in = isinstance(caller, Person)
    return READ_STATEMENTS + signed_in


async def seed_published_posts(services: Services, user_id: int) -> None:
    """Bulk rows, straight through the tables: the budget is about reading, not writing."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    async with services.db.write() as conn:
        await conn.execute(
            tags.insert(), [{"name": f"Topic {i}", "slug": f"topic-{i}"} for i in range(10)]
        )
        tag_ids = [row.id for row in (await conn.execute(tags.select())).all()]
        await conn.execute(
            posts.insert(),
            [
                {
                    "user_id": user_id,
                    "title": f"Post {i}",
                    "content": "Body",
                    "published": True,
                    "published_at": start + timedelta(minutes=i),
                    "created_at": start + timedelta(minutes=i),
                    "updated_at": start + timedelta(minutes=i),
                }
                for i in range(POSTS)
            ],
        )
        post_ids = [row.id for row in (await conn.execute(posts.select())).all()]
        await conn.execute(
            post_tags.insert(),
            [
                {"post_id": post_id, "tag_id": tag_ids[(n + k) % len(tag_ids)]}
                for n, post_id in enumerate(post_ids)
                for k in range(TAGS_PER_POST)
            ],
        )


@pytest.mark.parametrize("caller", ["anon", "stranger"], indirect=True)
async def test_post_lists_run_the_same_few_statements_for_any_page_size(
    services: Services, author: Person, caller: Any, count_statements: Any
) -> None:
    await seed_published_posts(services, author.id)
    for route in ("/posts", f"/users/{author.id}/posts"):
        counts = {}
        for limit in (1, 20, 100):
            with count_statements() as counter:
                reply = await caller.get(route, params={"limit": limit})
            assert reply.status_code == 200, reply.text
            data = reply.json()["data"]
            assert len(data) == limit
            assert all(len(post["tags"]) == TAGS_PER_POST for post in data)
            assert reply.json()["pagination"]["total"] == POSTS
            counts[limit] = counter.count
        assert counts == dict.fromkeys(counts, budget(services, caller)), route


@pytest.mark.parametrize("caller", ["anon", "stranger"], indirect=True)
async def test_a_post_comes_with_its_author_and_tags_in_the_same_statements(
    services: Services, author: Person, caller: Any, count_statements: Any
) -> None:
    await seed_published_posts(services, author.id)
    post_id = (await caller.get("/posts", params={"limit": 1})).json()["data"][0]["id"]
    with count_statements() as counter:
        reply = await caller.get(f"/posts/{post_id}")
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["tags"]) == TAGS_PER_POST
    assert reply.json()["author"]["id"] == author.id
    assert counter.count == budget(services, caller), counter.statements
