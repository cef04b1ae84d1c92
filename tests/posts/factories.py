"""Posts made through the API, and a way to ask a test for one of the actor fixtures by name."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Person

Caller = Person | httpx.AsyncClient
# Who may see or act, in the order docs/api.md names them.
ACTORS = ("anon", "author", "stranger", "moderator", "admin")
# Fields a client might try to set on a post that only the server decides (mass assignment).
SERVER_FIELDS: list[tuple[str, Any]] = [
    ("userId", 1),
    ("publishedAt", "2020-01-01T00:00:00Z"),
    ("author", {"id": 1}),
    ("id", 5),
    ("createdAt", "2020-01-01T00:00:00Z"),
]


async def create_post(
    person: Person,
    *,
    title: str = "A title",
    content: str = "Some content",
    published: bool = True,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title, "content": content, "published": published}
    if tags is not None:
        body["tags"] = tags
    reply = await person.post("/posts", json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


async def read_post(reader: Person, post_id: int) -> dict[str, Any]:
    """The post as someone who may see drafts reads it (an admin or its author)."""
    reply = await reader.get(f"/posts/{post_id}")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def ids(reply: httpx.Response) -> list[int]:
    assert reply.status_code == 200, reply.text
    return [item["id"] for item in reply.json()["data"]]
