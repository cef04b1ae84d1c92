"""Counters agree with their lists (docs/api.md): a tag's `postCount` with its post list, GraphQL's
`totalCount` with the edges, the REST `total` with the rows, while an author is deleted and
restored. They are counted live, each in the same statement as its page (one snapshot), and the
published total is kept exact (tests/posts/test_published_total_races.py)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from pressroom.services import Services
from tests.conftest import People, Person
from tests.graphql.conftest import data_of
from tests.posts.factories import create_post

GRAPHQL_COUNTS = """
{
  posts(first: 100) { totalCount edges { node { id } } }
  tagged: posts(first: 100, filter: {tag: "shared"}) { totalCount edges { node { id } } }
  tags(first: 100) { totalCount edges { node { slug postCount } } }
}
"""


async def rest_list(reader: httpx.AsyncClient, url: str) -> tuple[int, int]:
    reply = await reader.get(url, params={"limit": 100})
    assert reply.status_code == 200, reply.text
    return reply.json()["pagination"]["total"], len(reply.json()["data"])


async def counts_and_lists(reader: httpx.AsyncClient) -> dict[str, Any]:
    """Each counter next to the length of the list it counts."""
    tag = await reader.get("/tags/shared")
    assert tag.status_code == 200, tag.text
    tagged_total, tagged_rows = await rest_list(reader, "/tags/shared/posts")
    posts_total, posts_rows = await rest_list(reader, "/posts")
    tags_total, tags_rows = await rest_list(reader, "/tags")
    listed_tags = (await reader.get("/tags", params={"limit": 100})).json()["data"]
    graph = await data_of(reader, GRAPHQL_COUNTS)
    graph_tags = {e["node"]["slug"]: e["node"]["postCount"] for e in graph["tags"]["edges"]}
    return {
        "postCount": (tag.json()["postCount"], tagged_total, tagged_rows),
        "listed postCount": ([t["postCount"] for t in listed_tags if t["slug"] == "shared"],),
        "GET /posts": (posts_total, posts_rows),
        "GET /tags": (tags_total, tags_rows),
        "GraphQL posts": (graph["posts"]["totalCount"], len(graph["posts"]["edges"])),
        "GraphQL tagged": (graph["tagged"]["totalCount"], len(graph["tagged"]["edges"])),
        "GraphQL tags": (graph["tags"]["totalCount"], len(graph["tags"]["edges"])),
        "GraphQL postCount": (graph_tags.get("shared"), tagged_rows),
    }


def assert_agree(found: dict[str, Any], step: str) -> None:
    for counter, values in found.items():
        if counter == "listed postCount":
            assert values[0] == [found["postCount"][0]], (step, counter, found)
        else:
            assert len(set(values)) == 1, (step, counter, found)


async def test_counters_equal_their_lists_as_an_author_is_deleted_and_restored(
    services: Services, anon: httpx.AsyncClient, people: People, author: Person, admin: Person
) -> None:
    leaving = await people.make()
    for person, published in ((author, 2), (leaving, 3)):
        for number in range(published):
            await create_post(person, title=f"{number}", tags=["shared", f"own-{person.id}"])
        await create_post(person, title="draft", tags=["shared"], published=False)

    before = await counts_and_lists(anon)
    assert_agree(before, "all live")
    assert before["postCount"][0] == 5

    assert (await admin.delete(f"/users/{leaving.id}")).status_code == 204
    deleted = await counts_and_lists(anon)
    assert_agree(deleted, "author deleted")
    assert deleted["postCount"][0] == 2
    assert deleted["GET /tags"][0] == before["GET /tags"][0] - 1  # own-{leaving} left the list

    async with services.db.write() as conn:  # no endpoint restores an account: an operator's SQL
        await conn.execute(
            text("UPDATE users SET deleted_at = NULL WHERE id = :id"), {"id": leaving.id}
        )
    restored = await counts_and_lists(anon)
    assert_agree(restored, "author restored")
    assert restored == before
