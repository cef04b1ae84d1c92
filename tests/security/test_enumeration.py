"""Account enumeration (ASVS V6.3.8): login, sign-up and password change tell a registered
email from an unknown one only through sign-up's documented 409; login does the same
password-hash work either way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pressroom.services import Services
from tests.conftest import PASSWORD, People, Person, assert_error

VOLATILE_HEADERS = {"x-request-id", "date", "content-length"}


def observable(reply: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """Everything a client can see of a reply, minus what differs on every request."""
    headers = {k: v for k, v in reply.headers.items() if k.lower() not in VOLATILE_HEADERS}
    return reply.status_code, reply.json() if reply.content else None, headers


async def test_login_answers_the_same_for_unknown_email_and_wrong_password(
    author: Person, anon: httpx.AsyncClient
) -> None:
    wrong_password = await anon.post(
        "/auth/login", json={"email": author.email, "password": "Wrong-Horse-42"}
    )
    unknown_email = await anon.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "Wrong-Horse-42"}
    )
    assert_error(wrong_password, 401, "AUTHENTICATION_ERROR")
    assert observable(wrong_password) == observable(unknown_email)


async def test_login_for_a_deleted_account_answers_like_an_unknown_email(
    author: Person, anon: httpx.AsyncClient
) -> None:
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    deleted = await anon.post("/auth/login", json={"email": author.email, "password": PASSWORD})
    unknown = await anon.post(
        "/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert_error(deleted, 401, "AUTHENTICATION_ERROR")
    assert observable(deleted) == observable(unknown)


async def test_login_email_letter_case_changes_nothing(
    author: Person, anon: httpx.AsyncClient
) -> None:
    shouted = await anon.post(
        "/auth/login", json={"email": author.email.upper(), "password": PASSWORD}
    )
    assert shouted.status_code == 200


async def test_login_does_the_same_hash_work_for_known_and_unknown_emails(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    cases = {
        "known email, right password": {"email": author.email, "password": PASSWORD},
        "known email, wrong password": {"email": author.email, "password": "Wrong-Horse-42"},
        "unknown email": {"email": "nobody@example.com", "password": "Wrong-Horse-42"},
        "deleted-looking email": {"email": "NOBODY@EXAMPLE.COM", "password": PASSWORD},
    }
    work = {}
    for name, body in cases.items():
        before = services.hasher.verifications
        await anon.post("/auth/login", json=body)
        work[name] = services.hasher.verifications - before
    assert work == dict.fromkeys(cases, 1)


async def test_sign_up_reveals_a_taken_email_only_through_its_documented_409(
    author: Person, anon: httpx.AsyncClient
) -> None:
    def body(email: str, password: str = PASSWORD) -> dict[str, Any]:
        return {
            "email": email,
            "password": password,
            "profile": {"firstName": "A", "lastName": "B"},
        }

    taken = await anon.post("/users", json=body(author.email.upper()))
    assert_error(taken, 409, "CONFLICT")
    # Any other problem in the body is reported first, the same way for both emails, so the
    # 409 is the only signal and costs a valid sign-up attempt.
    for password in ("short", "password1", "x" * 200):
        known = await anon.post("/users", json=body(author.email, password))
        unknown = await anon.post("/users", json=body("free@example.com", password))
        assert_error(known, 400, "VALIDATION_ERROR")
        assert observable(known) == observable(unknown)
    bad_name = {**body(author.email), "profile": {"firstName": "", "lastName": "B"}}
    known = await anon.post("/users", json=bad_name)
    unknown = await anon.post("/users", json={**bad_name, "email": "free@example.com"})
    assert observable(known) == observable(unknown)


async def test_password_change_says_nothing_about_other_accounts(
    author: Person, people: People, services: Services
) -> None:
    # Another account's password is as wrong as a random one, with the same hash work.
    stranger = await people.make(password="Other-Horse-77")
    replies = []
    for guess in (stranger.password, "Random-Guess-99"):
        before = services.hasher.verifications
        replies.append(
            await author.post(
                "/users/me/password",
                json={"currentPassword": guess, "newPassword": "Another-Horse-43"},
            )
        )
        assert services.hasher.verifications - before == 1
    assert observable(replies[0]) == observable(replies[1])
    error = assert_error(replies[0], 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"currentPassword"}


async def test_user_lookup_does_not_tell_deleted_from_never_existed(
    author: Person, stranger: Person
) -> None:
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    deleted = await stranger.get(f"/users/{author.id}")
    never = await stranger.get(f"/users/{author.id + 1000}")
    assert_error(deleted, 404, "NOT_FOUND")
    assert observable(deleted) == observable(never)


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limits_enabled": True, "rate_limit_failed_logins_per_account": "3 per 15 minutes"}],
)
async def test_failed_login_throttle_treats_unknown_and_registered_emails_alike(
    author: Person, anon: httpx.AsyncClient
) -> None:
    # A throttle that only counted registered accounts would answer 429 only for them.
    sequences = {}
    for email in (author.email, "nobody@example.com"):
        replies = [
            await anon.post("/auth/login", json={"email": email, "password": "Wrong-Horse-42"})
            for _ in range(5)
        ]
        sequences[email] = [observable(r)[:2] for r in replies]
    known, unknown = sequences.values()
    assert known == unknown
    assert known[-1][0] == 429
