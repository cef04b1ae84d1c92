"""Roles: only users:manage changes them, they take effect at once, the last admin stays."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from pressroom.auth.permissions import Role
from tests.conftest import People, Person, assert_error


async def roles_of(viewer: Person, user_id: int) -> list[str]:
    reply = await viewer.get(f"/users/{user_id}")
    assert reply.status_code == 200, reply.text
    roles: list[str] = reply.json()["roles"]
    return roles


async def set_roles(admin: Person, user_id: int, roles: list[str]) -> httpx.Response:
    return await admin.patch(f"/users/{user_id}", json={"roles": roles})


async def test_a_user_cannot_change_their_own_roles(author: Person) -> None:
    for roles in (["user", "admin"], ["moderator"], ["user"]):
        reply = await set_roles(author, author.id, roles)
        assert_error(reply, 403, "AUTHORIZATION_ERROR")
    assert await roles_of(author, author.id) == ["user"]
    # A refused roles change takes the rest of the body down with it.
    reply = await author.patch(
        f"/users/{author.id}", json={"roles": ["admin"], "profile": {"firstName": "Sneaky"}}
    )
    assert_error(reply, 403, "AUTHORIZATION_ERROR")
    assert (await author.get("/users/me")).json()["profile"]["firstName"] == "Ada"


async def test_a_moderator_cannot_change_roles(moderator: Person, author: Person) -> None:
    assert_error(await set_roles(moderator, author.id, ["moderator"]), 403, "AUTHORIZATION_ERROR")
    assert_error(await set_roles(moderator, moderator.id, ["admin"]), 403, "AUTHORIZATION_ERROR")
    assert await roles_of(moderator, moderator.id) == ["moderator", "user"]
    assert (await author.get("/users/me")).json()["roles"] == ["user"]


async def test_promotion_gives_the_existing_token_moderator_powers_at_once(
    admin: Person, author: Person, stranger: Person
) -> None:
    draft = await stranger.post("/posts", json={"title": "Secret", "content": "draft"})
    assert draft.status_code == 201, draft.text
    draft_url = f"/posts/{draft.json()['id']}"
    assert_error(await author.get(draft_url), 404, "NOT_FOUND")

    reply = await set_roles(admin, author.id, ["user", "moderator"])
    assert reply.status_code == 200, reply.text
    assert reply.json()["roles"] == ["moderator", "user"]
    assert (await author.get("/users/me")).json()["roles"] == ["moderator", "user"]
    # The same access token, minted before the promotion, now carries posts:delete.
    assert (await author.get(draft_url)).status_code == 200
    assert (await author.delete(draft_url)).status_code == 204


async def test_demotion_takes_powers_away_at_once(
    admin: Person, moderator: Person, stranger: Person
) -> None:
    post = await stranger.post("/posts", json={"title": "T", "content": "c", "published": True})
    assert (await set_roles(admin, moderator.id, ["user"])).status_code == 200
    assert_error(await moderator.delete(f"/posts/{post.json()['id']}"), 403, "AUTHORIZATION_ERROR")
    assert (await stranger.get(f"/posts/{post.json()['id']}")).status_code == 200


async def test_an_admin_can_make_another_admin_who_manages_users(
    admin: Person, author: Person, stranger: Person
) -> None:
    assert (await set_roles(admin, author.id, ["admin", "user"])).status_code == 200
    full = await author.get(f"/users/{stranger.id}")
    assert full.json()["email"] == stranger.email
    assert (await author.get("/users", params={"role": "admin"})).status_code == 200


async def test_bad_role_values_are_400_and_change_nothing(admin: Person, author: Person) -> None:
    bodies: list[Any] = [[], ["root"], ["user", "user"], "admin", [None], ["ADMIN"]]
    for roles in bodies:
        reply = await set_roles(admin, author.id, roles)
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert all(key.startswith("roles") for key in error["details"]), error
    assert await roles_of(admin, author.id) == ["user"]


async def test_the_last_admin_cannot_be_demoted_or_deleted(admin: Person) -> None:
    reply = await set_roles(admin, admin.id, ["user"])
    assert_error(reply, 409, "CONFLICT")
    assert_error(await admin.delete(f"/users/{admin.id}"), 409, "CONFLICT")
    assert await roles_of(admin, admin.id) == ["admin", "user"]
    assert (await admin.get("/users/me")).status_code == 200


async def test_an_admin_may_step_down_once_another_admin_exists(
    admin: Person, people: People
) -> None:
    second = await people.make(Role.ADMIN)
    assert (await set_roles(admin, admin.id, ["user"])).status_code == 200
    assert_error(await second.delete(f"/users/{second.id}"), 409, "CONFLICT")
    assert_error(await set_roles(second, second.id, ["user"]), 409, "CONFLICT")
    assert await roles_of(second, second.id) == ["admin", "user"]


async def live_admin_ids(viewer: Person) -> list[int]:
    reply = await viewer.get("/users", params={"role": "admin"})
    assert reply.status_code == 200, reply.text
    return [u["id"] for u in reply.json()["data"]]


def one_won(replies: list[httpx.Response], success: int) -> int:
    """Exactly one request succeeded; the index of the winner.

    The loser gets 409 if it passed sign-in before the winner committed, else 401 (deleted)
    or 403 (no longer an admin): whichever, it changed nothing.
    """
    statuses = [r.status_code for r in replies]
    assert statuses.count(success) == 1, statuses
    assert all(s in {success, 401, 403, 409} for s in statuses), statuses
    return statuses.index(success)


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    admin: Person, people: People
) -> None:
    second = await people.make(Role.ADMIN)
    replies = await asyncio.gather(
        set_roles(admin, second.id, ["user"]), set_roles(second, admin.id, ["user"])
    )
    winner = (admin, second)[one_won(replies, 200)]
    assert await live_admin_ids(winner) == [winner.id]


async def test_two_admins_deleting_each_other_at_once_leave_one_admin(
    admin: Person, people: People
) -> None:
    second = await people.make(Role.ADMIN)
    replies = await asyncio.gather(
        admin.delete(f"/users/{second.id}"), second.delete(f"/users/{admin.id}")
    )
    winner = (admin, second)[one_won(replies, 204)]
    assert await live_admin_ids(winner) == [winner.id]


async def test_role_filter_and_email_sort_are_for_managers_only(
    author: Person, moderator: Person, admin: Person
) -> None:
    for caller in (author, moderator):
        for params in ({"role": "admin"}, {"sort": "email"}, {"sort": "-email"}):
            reply = await caller.get("/users", params=params)
            assert_error(reply, 403, "AUTHORIZATION_ERROR")
    found = (await admin.get("/users", params={"role": "moderator"})).json()["data"]
    assert [u["id"] for u in found] == [moderator.id]
    by_email = (await admin.get("/users", params={"sort": "email"})).json()["data"]
    emails = [u["email"] for u in by_email]
    assert emails == sorted(emails, key=str.lower)
    assert_error(await admin.get("/users", params={"role": "root"}), 400, "VALIDATION_ERROR")


async def test_roles_without_user_are_400_and_change_nothing(
    admin: Person, moderator: Person
) -> None:
    """Every account holds `user`, the base role; an admin sending roles without it is told
    so (400 on `roles`) rather than having the list quietly changed or applied."""
    for roles in (["moderator"], ["admin"], ["admin", "moderator"]):
        error = assert_error(await set_roles(admin, moderator.id, roles), 400, "VALIDATION_ERROR")
        assert list(error["details"]) == ["roles"], error
    assert await roles_of(admin, moderator.id) == ["moderator", "user"]
