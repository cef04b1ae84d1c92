"""PATCH /users/{id}: self or users:manage; a refused change leaves the account as it was."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Person, assert_error

CHANGES = {
    "profile": {"firstName": "Changed", "bio": "new bio"},
    "settings": {"emailNotifications": False},
}


async def full_view(person: Person) -> dict[str, Any]:
    reply = await person.get("/users/me")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_owner_updates_profile_and_settings(author: Person) -> None:
    before = await full_view(author)
    reply = await author.patch(f"/users/{author.id}", json=CHANGES)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["profile"] == {
        "firstName": "Changed",
        "lastName": "Author",
        "avatarUrl": None,
        "bio": "new bio",
    }
    assert body["settings"] == {"emailNotifications": False}
    assert body["email"] == author.email
    assert body["updatedAt"] > before["updatedAt"]
    assert body["createdAt"] == before["createdAt"]
    assert await full_view(author) == body


async def test_optional_profile_fields_can_be_cleared_required_ones_cannot(
    author: Person,
) -> None:
    set_reply = await author.patch(
        f"/users/{author.id}",
        json={"profile": {"avatarUrl": "https://img.example/a.png", "bio": "hi"}},
    )
    assert set_reply.status_code == 200, set_reply.text
    cleared = await author.patch(
        f"/users/{author.id}", json={"profile": {"avatarUrl": None, "bio": None}}
    )
    assert cleared.json()["profile"]["avatarUrl"] is None
    assert cleared.json()["profile"]["bio"] is None
    before = await full_view(author)
    for body, field in (
        ({"profile": {"firstName": None}}, "profile.firstName"),
        ({"profile": {"lastName": ""}}, "profile.lastName"),
        ({"profile": {"lastName": "x" * 101}}, "profile.lastName"),
        ({"settings": {"emailNotifications": None}}, "settings.emailNotifications"),
        ({"settings": {"emailNotifications": "no"}}, "settings.emailNotifications"),
        ({"profile": {"avatarUrl": "ftp://x"}}, "profile.avatarUrl"),
    ):
        reply = await author.patch(f"/users/{author.id}", json=body)
        assert list(assert_error(reply, 400, "VALIDATION_ERROR")["details"]) == [field]
    assert await full_view(author) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "new@example.com"}, "email"),
        ({"emailVerified": True}, "emailVerified"),
        ({"passwordHash": "$argon2id$forged"}, "passwordHash"),
        ({"password": "Another-Pass-1"}, "password"),
        ({"userId": 99}, "userId"),
        ({"profile": {"userId": 99}}, "profile.userId"),
        ({"settings": {"theme": "dark"}}, "settings.theme"),
    ],
)
async def test_unknown_fields_are_refused_and_nothing_changes(
    author: Person, body: dict[str, Any], field: str
) -> None:
    before = await full_view(author)
    reply = await author.patch(f"/users/{author.id}", json=body)
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert error["details"] == {field: ["Unknown field"]}
    assert await full_view(author) == before


async def test_another_user_and_a_moderator_get_403_and_nothing_changes(
    author: Person, stranger: Person, moderator: Person
) -> None:
    before = await full_view(author)
    for caller in (stranger, moderator):
        reply = await caller.patch(f"/users/{author.id}", json=CHANGES)
        assert_error(reply, 403, "AUTHORIZATION_ERROR")
        assert author.email not in reply.text
    assert await full_view(author) == before


async def test_anonymous_gets_401_and_nothing_changes(
    anon: httpx.AsyncClient, author: Person
) -> None:
    before = await full_view(author)
    reply = await anon.patch(f"/users/{author.id}", json=CHANGES)
    assert_error(reply, 401, "AUTHENTICATION_ERROR")
    assert await full_view(author) == before


async def test_admin_updates_anyone(admin: Person, author: Person) -> None:
    reply = await admin.patch(f"/users/{author.id}", json=CHANGES)
    assert reply.status_code == 200, reply.text
    assert reply.json()["email"] == author.email
    assert (await full_view(author))["profile"]["firstName"] == "Changed"


async def test_patching_an_unknown_or_deleted_user_is_404(admin: Person, author: Person) -> None:
    assert_error(await admin.patch("/users/999999", json=CHANGES), 404, "NOT_FOUND")
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    assert_error(await admin.patch(f"/users/{author.id}", json=CHANGES), 404, "NOT_FOUND")


async def test_an_empty_patch_changes_nothing_but_is_fine(author: Person) -> None:
    before = await full_view(author)
    reply = await author.patch(f"/users/{author.id}", json={})
    assert reply.status_code == 200, reply.text
    assert reply.json()["profile"] == before["profile"]
    assert reply.json()["settings"] == before["settings"]
