"""OWASP API1 (broken object-level authorization): every REST route that takes an id, called
by someone other than the owner. The owner's object stays as it was."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Person, assert_error

PUBLIC_USER_FIELDS = {"id", "profile", "createdAt"}


async def make_post(author: Person, *, published: bool, tags: list[str] | None = None) -> Any:
    reply = await author.post(
        "/posts",
        json={"title": "Mine", "content": "text", "published": published, "tags": tags or []},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_other_user_sees_only_the_public_view_of_a_user(
    author: Person, stranger: Person
) -> None:
    reply = await stranger.get(f"/users/{author.id}")
    assert reply.status_code == 200, reply.text
    assert set(reply.json()) == PUBLIC_USER_FIELDS


async def test_other_user_cannot_change_or_delete_a_user(author: Person, stranger: Person) -> None:
    before = (await author.get("/users/me")).json()
    assert_error(
        await stranger.patch(f"/users/{author.id}", json={"profile": {"firstName": "Pwned"}}),
        403,
        "AUTHORIZATION_ERROR",
    )
    assert_error(
        await stranger.patch(
            f"/users/{author.id}", json={"settings": {"emailNotifications": False}}
        ),
        403,
        "AUTHORIZATION_ERROR",
    )
    assert_error(await stranger.delete(f"/users/{author.id}"), 403, "AUTHORIZATION_ERROR")
    after = await author.get("/users/me")
    assert after.status_code == 200
    assert after.json() == before


async def test_moderator_cannot_change_or_delete_another_user(
    author: Person, moderator: Person
) -> None:
    assert_error(
        await moderator.patch(f"/users/{author.id}", json={"profile": {"bio": "x"}}),
        403,
        "AUTHORIZATION_ERROR",
    )
    assert_error(await moderator.delete(f"/users/{author.id}"), 403, "AUTHORIZATION_ERROR")


async def test_other_user_gets_404_for_a_draft_by_id(author: Person, stranger: Person) -> None:
    draft = await make_post(author, published=False)
    for call in (
        stranger.get(f"/posts/{draft['id']}"),
        stranger.patch(f"/posts/{draft['id']}", json={"title": "Pwned"}),
        stranger.delete(f"/posts/{draft['id']}"),
    ):
        assert_error(await call, 404, "NOT_FOUND")
    # As unknown as an id that never existed: same status, same body.
    missing = await stranger.get(f"/posts/{draft['id'] + 1000}")
    assert (await stranger.get(f"/posts/{draft['id']}")).json() == missing.json()
    assert (await author.get(f"/posts/{draft['id']}")).json()["title"] == "Mine"


async def test_anonymous_gets_404_for_a_draft_by_id(
    author: Person, anon: httpx.AsyncClient
) -> None:
    draft = await make_post(author, published=False)
    assert_error(await anon.get(f"/posts/{draft['id']}"), 404, "NOT_FOUND")


async def test_other_user_cannot_edit_or_delete_a_published_post(
    author: Person, stranger: Person
) -> None:
    post = await make_post(author, published=True, tags=["Kept"])
    assert_error(
        await stranger.patch(f"/posts/{post['id']}", json={"title": "Pwned", "tags": []}),
        403,
        "AUTHORIZATION_ERROR",
    )
    assert_error(await stranger.delete(f"/posts/{post['id']}"), 403, "AUTHORIZATION_ERROR")
    after = (await author.get(f"/posts/{post['id']}")).json()
    assert after == post


async def test_drafts_of_others_never_appear_in_lists(author: Person, stranger: Person) -> None:
    draft = await make_post(author, published=False, tags=["Secret Plan"])
    lists = [
        "/posts",
        "/posts?published=false",
        f"/posts?published=false&author={author.id}",
        f"/posts?author={author.id}",
        "/posts?q=Mine",
        f"/users/{author.id}/posts",
    ]
    for url in lists:
        reply = await stranger.get(url)
        assert reply.status_code == 200, (url, reply.text)
        assert draft["id"] not in [p["id"] for p in reply.json()["data"]], url
    # A tag known only from the draft is itself unknown to the stranger (test_tag_privacy.py).
    assert_error(await stranger.get("/tags/secret-plan/posts"), 404, "NOT_FOUND")
    assert (await author.get("/tags/secret-plan/posts")).json()["data"] == []
    # The author does see it, so the lists above were able to show it.
    mine = await author.get("/posts?published=false")
    assert [p["id"] for p in mine.json()["data"]] == [draft["id"]]


async def test_other_user_cannot_end_someone_elses_session(
    author: Person, stranger: Person
) -> None:
    sessions = (await author.get("/users/me/sessions")).json()["data"]
    session_id = sessions[0]["id"]
    reply = await stranger.delete(f"/users/me/sessions/{session_id}")
    assert_error(reply, 404, "NOT_FOUND")
    # Same answer as for a session that never existed.
    missing = await stranger.delete(f"/users/me/sessions/{session_id + 1000}")
    assert missing.json() == reply.json()
    assert (await author.get("/users/me")).status_code == 200


async def test_sessions_list_holds_only_the_callers_sessions(
    author: Person, stranger: Person
) -> None:
    own = {s["id"] for s in (await stranger.get("/users/me/sessions")).json()["data"]}
    theirs = {s["id"] for s in (await author.get("/users/me/sessions")).json()["data"]}
    assert own
    assert theirs
    assert not own & theirs


async def test_other_user_cannot_log_out_with_a_guessed_refresh_token(
    author: Person, anon: httpx.AsyncClient
) -> None:
    # Refresh tokens are bearer secrets: a near miss is worth nothing.
    near_miss = author.refresh_token[:-1] + ("A" if author.refresh_token[-1] != "A" else "B")
    assert_error(
        await anon.post("/auth/logout", json={"refreshToken": near_miss}),
        401,
        "AUTHENTICATION_ERROR",
    )
    assert (await author.get("/users/me")).status_code == 200


async def test_plain_user_cannot_rename_or_delete_a_tag(author: Person, stranger: Person) -> None:
    await make_post(author, published=True, tags=["Mine Only"])
    assert_error(
        await author.patch("/tags/mine-only", json={"name": "Taken"}), 403, "AUTHORIZATION_ERROR"
    )
    assert_error(await stranger.delete("/tags/mine-only"), 403, "AUTHORIZATION_ERROR")
    reply = await stranger.get("/tags/mine-only")
    assert reply.json()["name"] == "Mine Only"
