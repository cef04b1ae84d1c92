"""Password reset: the same answer and work for unknown emails, tokens that obey every rule,
and a reset that ends every session."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from pressroom.jobs.worker import Worker
from pressroom.services import Services
from tests.accounts.conftest import LINK_BASE
from tests.accounts.mailbox import Mailbox
from tests.conftest import PASSWORD, Person, assert_error
from tests.security.test_enumeration import observable

NEW_PASSWORD = "Brand-New-Horse-7"


async def reset_token(anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox, email: str) -> str:
    assert (await anon.post("/auth/password-reset", json={"email": email})).status_code == 202
    await worker.drain()
    return [m for m in mailbox.to(email) if m.subject == "Reset your password"][-1].token


async def test_reset_mail_link_sets_a_new_password_and_ends_every_session(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    reply = await anon.post("/auth/password-reset", json={"email": author.email.upper()})
    assert reply.status_code == 202
    assert reply.headers["cache-control"] == "no-store"
    await worker.drain()
    mail = mailbox.to(author.email)[-1]
    assert mail.subject == "Reset your password"
    assert mail.link.startswith(f"{LINK_BASE}/reset-password?token=")
    assert mail.token in mail.part("html")
    assert "30 minutes" in mail.part("plain")

    confirm = {"token": mail.token, "newPassword": NEW_PASSWORD}
    assert (await anon.post("/auth/password-reset/confirm", json=confirm)).status_code == 204
    # Every session ended: the access token and the refresh token both stop at once.
    assert_error(await author.get("/users/me"), 401, "AUTHENTICATION_ERROR")
    refreshed = await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    assert_error(refreshed, 401, "AUTHENTICATION_ERROR")
    old = await anon.post("/auth/login", json={"email": author.email, "password": PASSWORD})
    assert_error(old, 401, "AUTHENTICATION_ERROR")
    new = await anon.post("/auth/login", json={"email": author.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    me = await anon.get(
        "/users/me", headers={"Authorization": f"Bearer {new.json()['accessToken']}"}
    )
    assert me.json()["emailVerified"] is True  # the mailed token proved the address
    # Single use.
    again = await anon.post("/auth/password-reset/confirm", json=confirm)
    assert assert_error(again, 400, "VALIDATION_ERROR")["details"] == {
        "token": ["is invalid or has expired"]
    }


async def test_a_newer_reset_voids_the_older_token(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    first = await reset_token(anon, worker, mailbox, author.email)
    second = await reset_token(anon, worker, mailbox, author.email)
    voided = await anon.post(
        "/auth/password-reset/confirm", json={"token": first, "newPassword": NEW_PASSWORD}
    )
    assert_error(voided, 400, "VALIDATION_ERROR")
    confirm = {"token": second, "newPassword": NEW_PASSWORD}
    assert (await anon.post("/auth/password-reset/confirm", json=confirm)).status_code == 204


async def test_a_password_change_voids_outstanding_reset_tokens(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    token = await reset_token(anon, worker, mailbox, author.email)
    changed = await author.post(
        "/users/me/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    late = await anon.post(
        "/auth/password-reset/confirm", json={"token": token, "newPassword": "Third-Horse-99"}
    )
    assert_error(late, 400, "VALIDATION_ERROR")


async def test_a_refused_new_password_leaves_the_token_usable(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    token = await reset_token(anon, worker, mailbox, author.email)
    weak = await anon.post(
        "/auth/password-reset/confirm", json={"token": token, "newPassword": "short"}
    )
    error = assert_error(weak, 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"newPassword"}
    # Every failing field at once: a bad token and a bad password.
    both = await anon.post(
        "/auth/password-reset/confirm", json={"token": "nope", "newPassword": "short"}
    )
    assert set(assert_error(both, 400, "VALIDATION_ERROR")["details"]) == {"token", "newPassword"}
    ok = await anon.post(
        "/auth/password-reset/confirm", json={"token": token, "newPassword": NEW_PASSWORD}
    )
    assert ok.status_code == 204


async def test_an_expired_reset_token_is_refused(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox, services: Services
) -> None:
    token = await reset_token(anon, worker, mailbox, author.email)
    async with services.db.write() as conn:
        await conn.execute(text("UPDATE email_tokens SET expires_at = created_at"))
    expired = await anon.post(
        "/auth/password-reset/confirm", json={"token": token, "newPassword": NEW_PASSWORD}
    )
    assert_error(expired, 400, "VALIDATION_ERROR")


async def test_reset_answers_and_works_the_same_for_unknown_emails(
    author: Person,
    anon: httpx.AsyncClient,
    services: Services,
    count_statements: Any,
    worker: Worker,
    mailbox: Mailbox,
) -> None:
    await worker.drain()  # the sign-up's own mail, out of the way
    cases = {
        "live account": author.email,
        "unknown": "nobody@example.com",
        "unknown, shouted": "NOBODY@EXAMPLE.COM",
    }
    replies, statements, hashing = {}, {}, {}
    for name, email in cases.items():
        verifications = services.hasher.verifications
        with count_statements() as counter:
            replies[name] = observable(
                await anon.post("/auth/password-reset", json={"email": email})
            )
        statements[name] = counter.count
        hashing[name] = services.hasher.verifications - verifications
    assert len(set(map(repr, replies.values()))) == 1, replies
    assert replies["unknown"][0] == 202
    assert len(set(statements.values())) == 1, statements
    assert set(hashing.values()) == {0}
    mailbox.arrived.clear()
    await worker.drain()
    # A mail only to the live account.
    assert [m.to for m in mailbox.arrived] == [author.email]


async def test_a_deleted_account_gets_no_reset_mail(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    await worker.drain()
    assert (await author.delete(f"/users/{author.id}")).status_code == 204
    mailbox.arrived.clear()
    assert (
        await anon.post("/auth/password-reset", json={"email": author.email})
    ).status_code == 202
    await worker.drain()
    assert mailbox.arrived == []


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "rate_limits_enabled": True,
            "rate_limit_password_reset_per_address": "100/hour",
            "email_link_base_url": LINK_BASE,
        }
    ],
)
async def test_reset_requests_beyond_three_an_hour_per_email_are_dropped_silently(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    await worker.drain()
    mailbox.arrived.clear()
    # The 4th and 5th are answered like the others, for a known and an unknown address alike:
    # a 429 would say the address had been asked about.
    answers = {
        email: [
            observable(await anon.post("/auth/password-reset", json={"email": email}))[:2]
            for _ in range(5)
        ]
        for email in (author.email, "nobody@example.com")
    }
    assert answers[author.email] == answers["nobody@example.com"]
    assert {status for status, _ in answers[author.email]} == {202}
    await worker.drain()
    assert len(mailbox.to(author.email)) == 3


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limits_enabled": True, "email_link_base_url": LINK_BASE}],
)
async def test_reset_requests_beyond_five_an_hour_per_address_are_refused(
    anon: httpx.AsyncClient,
) -> None:
    for n in range(5):
        reply = await anon.post("/auth/password-reset", json={"email": f"n{n}@example.com"})
        assert reply.status_code == 202
    refused = await anon.post("/auth/password-reset", json={"email": "n6@example.com"})
    assert_error(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limits_enabled": True, "email_link_base_url": LINK_BASE}],
)
async def test_verification_mails_are_limited_to_three_an_hour_per_account(
    author: Person,
) -> None:
    for _ in range(3):
        assert (await author.post("/auth/email-verification")).status_code == 202
    assert_error(await author.post("/auth/email-verification"), 429, "RATE_LIMITED")
