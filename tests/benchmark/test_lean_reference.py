"""L (bench/lean.py) answers the anonymous list and one post with Pressroom's bytes, or the
benchmark's P/L ratio compares two different answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from bench import lean, reference

from tests.conftest import API, People, Person
from tests.posts.factories import create_post

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def lean_client(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(reference, "POOL_SIZE", 2)
    async with (
        lean.lifespan(lean.app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=lean.app), base_url=API) as http,
    ):
        yield http


async def _posts(author: Person, people: People) -> list[int]:
    """Posts with what a body can vary in: tags in mixed case (ordered by lower-cased name),
    none at all, non-ASCII text, a second author, a draft that must stay out."""
    other = await people.make(first_name="Zoë")
    made = [
        await create_post(author, title="Tagged", tags=["beta", "Alpha", "Zulu", "gamma Ω"]),
        await create_post(author, title='Untagged «quoted» "text"', content="ü\tline\nand €"),
        await create_post(other, title="Other author", tags=["Alpha"]),
        await create_post(author, title="Draft", published=False, tags=["hidden"]),
    ]
    return [post["id"] for post in made]


async def test_lean_list_and_posts_are_byte_identical_to_pressroom(
    anon: httpx.AsyncClient, lean_client: httpx.AsyncClient, author: Person, people: People
) -> None:
    *published, draft = await _posts(author, people)
    paths = [
        "/posts?limit=20",
        "/posts",
        "/posts?limit=2&page=2",
        *(f"/posts/{post_id}" for post_id in published),
    ]
    for path in paths:
        mine, theirs = await anon.get(path), await lean_client.get(path)
        assert mine.status_code == theirs.status_code == 200, path
        assert theirs.content == mine.content, path
    assert len((await lean_client.get("/posts")).json()["data"]) == len(published)
    assert (await lean_client.get(f"/posts/{draft}")).status_code == 404
