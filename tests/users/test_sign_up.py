"""POST /users: the password rule, names, emails and the mass-assignment defence."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.auth.conftest import FULL_USER_FIELDS, login_status
from tests.conftest import PASSWORD, Person, assert_error

NIST = {"password_policy": "nist"}


def sign_up_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "ann@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "Ann", "lastName": "Example"},
    }
    body.update(changes)
    return body


async def sign_up(http: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await http.post("/users", json=sign_up_body(**changes))


async def refused(http: httpx.AsyncClient, field: str, **changes: Any) -> list[str]:
    """Sign-up with these changes is a 400 on exactly `field`, and no account was made."""
    reply = await sign_up(http, **changes)
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == [field], error
    if field != "email":
        password = changes.get("password", PASSWORD)
        assert await login_status(http, changes.get("email", "ann@example.com"), password) == 401
    messages: list[str] = error["details"][field]
    return messages


async def test_sign_up_is_201_with_the_full_view_and_can_log_in(anon: httpx.AsyncClient) -> None:
    reply = await sign_up(anon)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert set(body) == FULL_USER_FIELDS
    assert body["emailVerified"] is False
    assert body["roles"] == ["user"]
    assert body["profile"] == {
        "firstName": "Ann",
        "lastName": "Example",
        "avatarUrl": None,
        "bio": None,
    }
    assert reply.headers["location"] == f"/api/v1/users/{body['id']}"
    assert body["createdAt"].endswith("Z")
    assert await login_status(anon, "ann@example.com") == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1defg", "at least 8"),
        ("abcdefgh1", "upper-case"),
        ("ABCDEFGH1", "lower-case"),
        ("Abcdefghi", "digit"),
        ("Password1", "too common"),
        ("Aa1" + "x" * 126, "at most 128"),
    ],
)
async def test_seed_password_rule(anon: httpx.AsyncClient, password: str, problem: str) -> None:
    messages = await refused(anon, "password", password=password)
    assert any(problem in m for m in messages), messages


async def test_seed_rule_accepts_eight_characters_and_128(anon: httpx.AsyncClient) -> None:
    assert (await sign_up(anon, password="Abcdef1x")).status_code == 201
    long = "Aa1" + "x" * 125
    reply = await sign_up(anon, email="long@example.com", password=long)
    assert reply.status_code == 201, reply.text
    assert await login_status(anon, "long@example.com", long) == 200


async def test_password_is_checked_exactly_as_sent(anon: httpx.AsyncClient) -> None:
    # Six characters between two spaces make eight: not trimmed into refusal, nor on login.
    padded = " Abcde1 "
    assert (await sign_up(anon, password=padded)).status_code == 201
    assert await login_status(anon, "ann@example.com", padded) == 200
    assert await login_status(anon, "ann@example.com", padded.strip()) == 401


@pytest.mark.parametrize("settings_overrides", [NIST])
async def test_nist_policy_wants_15_characters_and_no_composition(anon: httpx.AsyncClient) -> None:
    messages = await refused(anon, "password", password="Abcdefgh1234Xy")
    assert any("at least 15" in m for m in messages), messages
    reply = await sign_up(anon, password="correct horse battery")
    assert reply.status_code == 201, reply.text
    assert await login_status(anon, "ann@example.com", "correct horse battery") == 200


@pytest.mark.parametrize("settings_overrides", [NIST])
async def test_nist_policy_still_refuses_common_and_overlong_passwords(
    anon: httpx.AsyncClient,
) -> None:
    messages = await refused(anon, "password", password="1qaz2wsx3edc4rfv")
    assert any("too common" in m for m in messages), messages
    await refused(anon, "password", password="x" * 129)


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"firstName": "", "lastName": "Example"}, "profile.firstName"),
        ({"firstName": "   ", "lastName": "Example"}, "profile.firstName"),
        ({"firstName": "A" * 101, "lastName": "Example"}, "profile.firstName"),
        ({"firstName": "Ann", "lastName": ""}, "profile.lastName"),
        ({"firstName": "Ann", "lastName": "B" * 101}, "profile.lastName"),
        ({"firstName": "Ann"}, "profile.lastName"),
        ({"firstName": "Ann", "lastName": "Ex\nample"}, "profile.lastName"),
        (
            {"firstName": "Ann", "lastName": "Example", "avatarUrl": "javascript:x"},
            "profile.avatarUrl",
        ),
        ({"firstName": "Ann", "lastName": "Example", "userId": 3}, "profile.userId"),
    ],
)
async def test_profile_fields_are_validated_on_their_dotted_path(
    anon: httpx.AsyncClient, profile: dict[str, Any], field: str
) -> None:
    await refused(anon, field, profile=profile)


async def test_names_of_one_and_100_characters_are_accepted(anon: httpx.AsyncClient) -> None:
    reply = await sign_up(anon, profile={"firstName": "A", "lastName": "B" * 100})
    assert reply.status_code == 201, reply.text
    assert reply.json()["profile"]["lastName"] == "B" * 100


@pytest.mark.parametrize(
    "email", ["not-an-email", "ann@", "@example.com", "ann@@example.com", "ann example@x.com", ""]
)
async def test_invalid_email_is_400_on_email(anon: httpx.AsyncClient, email: str) -> None:
    await refused(anon, "email", email=email)


@pytest.mark.parametrize("field", ["roles", "emailVerified", "passwordHash", "userId", "id"])
async def test_unknown_fields_are_refused_not_applied(anon: httpx.AsyncClient, field: str) -> None:
    values = {
        "roles": ["admin"],
        "emailVerified": True,
        "passwordHash": "$argon2id$v=19$forged",
        "userId": 1,
        "id": 1,
    }
    messages = await refused(anon, field, **{field: values[field]})
    assert messages == ["Unknown field"]


async def test_duplicate_email_is_409_in_any_letter_case(
    anon: httpx.AsyncClient, author: Person
) -> None:
    assert (await sign_up(anon, email="ann@x.com")).status_code == 201
    for email in ("ann@x.com", "ANN@x.com", "Ann@X.COM", author.email.upper()):
        reply = await sign_up(anon, email=email, password="Other-Pass-99")
        error = assert_error(reply, 409, "CONFLICT")
        assert "email" in error.get("details", {})
        assert await login_status(anon, email, "Other-Pass-99") == 401
    assert await login_status(anon, "ann@x.com") == 200


async def test_an_email_with_non_ascii_capitals_signs_in_as_written(
    anon: httpx.AsyncClient,
) -> None:
    assert (await sign_up(anon, email="Ünal@Example.com")).status_code == 201
    assert await login_status(anon, "Ünal@Example.com") == 200
    assert await login_status(anon, "ÜNAL@EXAMPLE.COM") == 200
    reply = await sign_up(anon, email="ÜnAL@example.COM", password="Other-Pass-99")
    assert_error(reply, 409, "CONFLICT")


async def test_concurrent_sign_ups_with_one_email_make_one_account(
    anon: httpx.AsyncClient,
) -> None:
    replies = await asyncio.gather(
        *(sign_up(anon, email=f"{case}@race.example") for case in ("race", "RACE", "Race"))
    )
    assert sorted(r.status_code for r in replies) == [201, 409, 409]
    for loser in (r for r in replies if r.status_code == 409):
        assert_error(loser, 409, "CONFLICT")


async def test_a_deleted_users_email_can_sign_up_again(
    anon: httpx.AsyncClient, author: Person
) -> None:
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    reply = await sign_up(anon, email=author.email, password="Fresh-Start-11")
    assert reply.status_code == 201, reply.text
    assert reply.json()["id"] != author.id
    assert await login_status(anon, author.email, "Fresh-Start-11") == 200
    assert await login_status(anon, author.email, PASSWORD) == 401


async def test_sign_up_is_open_to_signed_in_users_too(author: Person) -> None:
    reply = await author.post("/users", json=sign_up_body(email="friend@example.com"))
    assert reply.status_code == 201, reply.text
    assert reply.json()["roles"] == ["user"]


async def test_sign_up_never_echoes_the_password(anon: httpx.AsyncClient) -> None:
    reply = await sign_up(anon)
    assert PASSWORD not in reply.text
    assert "password" not in reply.text.lower()


SIGN_UP_MUTATION = """mutation($input: CreateUserInput!) { createUser(input: $input) {
    user { id } errors { field message code } } }"""


async def test_a_sign_up_failing_everywhere_reports_every_field_at_once(
    anon: httpx.AsyncClient,
) -> None:
    """A bad email, a too-short password and a missing last name: all three in one answer,
    the password rule included, in REST's `details` and GraphQL's payload `errors` alike
    (the password used to be reported only once the rest was fixed: a second round trip)."""
    bad = {"email": "not-an-email", "password": "short", "profile": {"firstName": "Ann"}}
    error = assert_error(await anon.post("/users", json=bad), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"email", "password", "profile.lastName"}, error
    reply = await anon.post(
        "http://testserver/graphql", json={"query": SIGN_UP_MUTATION, "variables": {"input": bad}}
    )
    payload = reply.json()["data"]["createUser"]
    assert payload["user"] is None
    fields = [e["field"] for e in payload["errors"]]
    assert set(fields) == {"email", "password", "profile.lastName"}, payload
    assert payload["errors"] == [
        {"field": field, "message": message, "code": "VALIDATION_ERROR"}
        for field, messages in error["details"].items()
        for message in messages
    ]
