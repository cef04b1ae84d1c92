"""DELETE /users/{id}: a soft delete by self or users:manage that ends every session at once."""

from __future__ import annotations

import httpx

from tests.auth.conftest import login_status
from tests.conftest import PASSWORD, People, Person, assert_error


async def still_there(http: httpx.AsyncClient, person: Person) -> None:
    """The account is untouched: its token works and it can still sign in."""
    assert (await person.get("/users/me")).status_code == 200
    assert await login_status(http, person.email) == 200


async def test_owner_deletes_their_account_and_every_session_ends(
    anon: httpx.AsyncClient, author: Person, people: People, stranger: Person
) -> None:
    other = await people.sign_in(author.id, author.email, PASSWORD)
    reply = await author.delete(f"/users/{author.id}")
    assert reply.status_code == 204
    assert reply.content == b""
    for session in (author, other):
        assert_error(await session.get("/users/me"), 401, "AUTHENTICATION_ERROR")
        refused = await anon.post("/auth/refresh", json={"refreshToken": session.refresh_token})
        assert_error(refused, 401, "AUTHENTICATION_ERROR")
    assert await login_status(anon, author.email) == 401
    assert_error(await stranger.get(f"/users/{author.id}"), 404, "NOT_FOUND")
    await still_there(anon, stranger)


async def test_admin_deletes_any_account(
    anon: httpx.AsyncClient, admin: Person, author: Person
) -> None:
    assert (await admin.delete(f"/users/{author.id}")).status_code == 204
    assert_error(await author.get("/users/me"), 401, "AUTHENTICATION_ERROR")
    assert await login_status(anon, author.email) == 401
    assert_error(await admin.delete(f"/users/{author.id}"), 404, "NOT_FOUND")


async def test_another_user_and_a_moderator_get_403_and_nothing_changes(
    anon: httpx.AsyncClient, author: Person, stranger: Person, moderator: Person
) -> None:
    for caller in (stranger, moderator):
        assert_error(await caller.delete(f"/users/{author.id}"), 403, "AUTHORIZATION_ERROR")
    await still_there(anon, author)


async def test_anonymous_gets_401_and_nothing_changes(
    anon: httpx.AsyncClient, author: Person
) -> None:
    assert_error(await anon.delete(f"/users/{author.id}"), 401, "AUTHENTICATION_ERROR")
    await still_there(anon, author)


async def test_deleting_an_unknown_user_is_404(admin: Person, stranger: Person) -> None:
    assert_error(await admin.delete("/users/999999"), 404, "NOT_FOUND")
    assert_error(await stranger.delete("/users/999999"), 404, "NOT_FOUND")
