"""GET /users, /users/me, /users/{id}: the full view for self and managers, the public one else.

Nobody but the owner and users:manage holders may learn an email, neither in a reply nor by
searching for it.
"""

from __future__ import annotations

import httpx
import pytest

from tests.auth.conftest import FULL_USER_FIELDS, PUBLIC_USER_FIELDS
from tests.conftest import People, Person, assert_error


async def test_me_is_the_full_view_of_the_caller(author: Person) -> None:
    reply = await author.get("/users/me")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == FULL_USER_FIELDS
    assert body["id"] == author.id
    assert body["email"] == author.email
    assert body["roles"] == ["user"]
    assert body["settings"] == {"emailNotifications": True}
    assert body["profile"]["firstName"] == "Ada"


async def test_me_shows_each_role_its_own_account_and_roles(
    moderator: Person, admin: Person
) -> None:
    for person, roles in ((moderator, ["moderator", "user"]), (admin, ["admin", "user"])):
        body = (await person.get("/users/me")).json()
        assert set(body) == FULL_USER_FIELDS
        assert (body["id"], body["email"], body["roles"]) == (person.id, person.email, roles)


async def test_me_and_users_need_a_signed_in_caller(
    anon: httpx.AsyncClient, author: Person
) -> None:
    for path in ("/users/me", "/users", f"/users/{author.id}"):
        reply = await anon.get(path)
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert author.email not in reply.text


async def test_self_sees_the_full_view_by_id(author: Person) -> None:
    body = (await author.get(f"/users/{author.id}")).json()
    assert set(body) == FULL_USER_FIELDS
    assert body["email"] == author.email


async def test_others_see_only_id_profile_and_created_at(
    author: Person, stranger: Person, moderator: Person
) -> None:
    for viewer in (stranger, moderator):
        reply = await viewer.get(f"/users/{author.id}")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert set(body) == PUBLIC_USER_FIELDS
        assert body["profile"] == {
            "firstName": "Ada",
            "lastName": "Author",
            "avatarUrl": None,
            "bio": None,
        }
        assert author.email not in reply.text


async def test_admin_sees_the_full_view_of_anyone(admin: Person, author: Person) -> None:
    body = (await admin.get(f"/users/{author.id}")).json()
    assert set(body) == FULL_USER_FIELDS
    assert body["email"] == author.email


async def test_unknown_and_deleted_users_are_404(
    author: Person, stranger: Person, admin: Person
) -> None:
    assert_error(await stranger.get("/users/999999"), 404, "NOT_FOUND")
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    for viewer in (stranger, admin):
        assert_error(await viewer.get(f"/users/{author.id}"), 404, "NOT_FOUND")
    assert_error(await stranger.get("/users/not-a-number"), 400, "VALIDATION_ERROR")


async def test_the_list_shows_strangers_the_public_view_only(
    author: Person, stranger: Person, moderator: Person
) -> None:
    reply = await stranger.get("/users")
    assert reply.status_code == 200, reply.text
    listed = reply.json()["data"]
    assert {u["id"] for u in listed} == {author.id, stranger.id, moderator.id}
    for user in listed:
        assert set(user) == (FULL_USER_FIELDS if user["id"] == stranger.id else PUBLIC_USER_FIELDS)
    assert author.email not in reply.text
    assert moderator.email not in reply.text
    assert reply.json()["pagination"] == {"page": 1, "limit": 20, "total": 3, "totalPages": 1}


async def test_the_list_shows_managers_the_full_view(
    author: Person, stranger: Person, admin: Person
) -> None:
    listed = (await admin.get("/users")).json()["data"]
    assert all(set(u) == FULL_USER_FIELDS for u in listed)
    assert {u["email"] for u in listed} == {author.email, stranger.email, admin.email}


async def test_the_list_leaves_out_deleted_users(author: Person, stranger: Person) -> None:
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    listed = (await stranger.get("/users")).json()["data"]
    assert [u["id"] for u in listed] == [stranger.id]


async def test_name_search_matches_names_for_everyone(
    author: Person, stranger: Person, admin: Person
) -> None:
    for viewer in (stranger, admin):
        found = (await viewer.get("/users", params={"q": "ada auth"})).json()["data"]
        assert [u["id"] for u in found] == [author.id]
        found = (await viewer.get("/users", params={"q": "AUTHOR"})).json()["data"]
        assert [u["id"] for u in found] == [author.id]


async def test_name_search_finds_names_with_accented_capitals(
    people: People, stranger: Person
) -> None:
    emile = await people.make(first_name="Émile", last_name="Ødegaard")
    for query in ("Émile", "ÉMILE", "Ødegaard", "Émile Ødegaard"):
        found = (await stranger.get("/users", params={"q": query})).json()["data"]
        assert [u["id"] for u in found] == [emile.id], query


async def test_email_search_works_only_for_managers(
    people: People, stranger: Person, admin: Person
) -> None:
    target = await people.make(email="hidden.mailbox@secret.example", first_name="Tina")
    as_stranger = (await stranger.get("/users", params={"q": "hidden.mailbox"})).json()
    assert as_stranger["data"] == []
    assert as_stranger["pagination"]["total"] == 0
    as_admin = (await admin.get("/users", params={"q": "hidden.mailbox"})).json()["data"]
    assert [u["id"] for u in as_admin] == [target.id]


async def test_search_treats_like_wildcards_literally(author: Person, stranger: Person) -> None:
    for pattern in ("%", "_", "\\"):
        found = (await stranger.get("/users", params={"q": pattern})).json()["data"]
        assert found == [], pattern


async def test_the_list_sorts_by_last_name_and_created_at(people: People, stranger: Person) -> None:
    zed = await people.make(last_name="Zed")
    abe = await people.make(last_name="abe")
    by_name = (await stranger.get("/users", params={"sort": "last_name"})).json()["data"]
    assert [u["id"] for u in by_name] == [abe.id, stranger.id, zed.id]
    newest = (await stranger.get("/users")).json()["data"]
    assert [u["id"] for u in newest] == [abe.id, zed.id, stranger.id]
    oldest = (await stranger.get("/users", params={"sort": "created_at"})).json()["data"]
    assert [u["id"] for u in oldest] == [stranger.id, zed.id, abe.id]


async def test_the_list_pages_without_repeats(people: People, stranger: Person) -> None:
    for _ in range(4):
        await people.make(last_name="Same")
    seen: list[int] = []
    for page in (1, 2, 3):
        reply = await stranger.get("/users", params={"sort": "last_name", "limit": 2, "page": page})
        seen += [u["id"] for u in reply.json()["data"]]
        assert reply.json()["pagination"]["totalPages"] == 3
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"page": 0},
        {"sort": "password_hash"},
        {"sort": "first_name"},
    ],
)
async def test_bad_list_parameters_are_400(stranger: Person, params: dict[str, object]) -> None:
    assert_error(await stranger.get("/users", params=params), 400, "VALIDATION_ERROR")
