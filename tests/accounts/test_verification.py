"""Sign-up mails a verification link through the job queue and a real SMTP server; the link's
token verifies the address once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from pressroom.db.tables import email_tokens, jobs
from pressroom.db.units import unit_of_work
from pressroom.jobs.worker import Worker
from pressroom.services import Services
from pressroom.users.schemas import CreateUserRequest
from tests.accounts.conftest import LINK_BASE
from tests.accounts.mailbox import Mailbox
from tests.conftest import PASSWORD, People, Person, assert_error


def sign_up_body(email: str) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "profile": {"firstName": "Ann", "lastName": "B"}}


async def test_sign_up_mails_a_link_that_verifies_the_address_once(
    anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    reply = await anon.post("/users", json=sign_up_body("ann@example.com"))
    assert reply.status_code == 201, reply.text
    assert mailbox.arrived == []  # never inside the request
    assert await worker.drain() == 1
    [mail] = mailbox.arrived
    assert mail.envelope_to == ["ann@example.com"]
    assert mail.to == "ann@example.com"
    assert mail.message["From"] == "Pressroom <no-reply@example.test>"
    assert mail.subject == "Confirm your email address"
    assert mail.message["Message-ID"].startswith("<pressroom-job-")
    assert mail.link.startswith(f"{LINK_BASE}/verify-email?token=")
    assert len(mail.token) >= 22  # at least 128 bits, URL-safe base64
    plain, html = mail.part("plain"), mail.part("html")
    assert mail.token in plain
    assert mail.token in html
    assert f'href="{mail.link}"' in html
    assert "not you" in plain
    assert PASSWORD not in plain + html

    assert (await anon.post("/auth/verify-email", json={"token": mail.token})).status_code == 204
    signed_in = await anon.post(
        "/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    me = await anon.get(
        "/users/me", headers={"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
    )
    assert me.json()["emailVerified"] is True
    again = await anon.post("/auth/verify-email", json={"token": mail.token})
    error = assert_error(again, 400, "VALIDATION_ERROR")
    assert error["details"] == {"token": ["is invalid or has expired"]}


async def test_the_token_is_stored_only_as_a_digest(
    anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox, services: Services
) -> None:
    await anon.post("/users", json=sign_up_body("ann@example.com"))
    await worker.drain()
    token = mailbox.arrived[0].token
    async with services.db.read() as conn:
        stored = [
            str(value)
            for table in (email_tokens, jobs)
            for row in (await conn.execute(select(table))).all()
            for value in row
        ]
    assert stored
    assert not any(token in value for value in stored)


async def test_a_rolled_back_sign_up_sends_nothing(
    services: Services, worker: Worker, mailbox: Mailbox
) -> None:
    class FailsAfterQueueing:
        """The real verification hand-off, then a failure later in the same transaction."""

        def __init__(self, real: Any) -> None:
            self.real = real

        async def queue_verification(self, conn: Any, *args: Any) -> None:
            await self.real.queue_verification(conn, *args)
            async with conn.begin_nested():  # the job row is there, inside the transaction
                assert await conn.scalar(select(jobs.c.id)) is not None
            raise RuntimeError("the sign-up fails after its mail was queued")

    original = services.users.verification
    services.users.verification = FailsAfterQueueing(original)
    try:
        data = CreateUserRequest.model_validate(sign_up_body("gone@example.com"))
        with pytest.raises(RuntimeError):
            async with unit_of_work(services.db) as uow:
                await services.users.sign_up(uow, data)
    finally:
        services.users.verification = original
    async with services.db.read() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM jobs")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM users")) == 0
    assert await worker.drain() == 0
    assert mailbox.arrived == []


async def test_a_committed_sign_up_is_mailed_even_if_sent_long_after(
    people: People, services: Services, mailbox: Mailbox, worker: Worker
) -> None:
    # No worker ran while the account was made; the job waited in the database.
    await people.make(email="later@example.com")
    async with services.db.read() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM jobs WHERE status = 'pending'")) == 1
    await worker.drain()
    assert [m.to for m in mailbox.arrived] == ["later@example.com"]


async def test_requesting_verification_mails_again_until_verified(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    reply = await author.post("/auth/email-verification")
    assert reply.status_code == 202
    assert reply.json() == {"message": "A verification mail is on its way"}
    await worker.drain()
    sign_up_mail, requested = mailbox.to(author.email)
    # Both links work until one is used: each is its own token.
    assert sign_up_mail.token != requested.token
    assert (
        await anon.post("/auth/verify-email", json={"token": requested.token})
    ).status_code == 204
    assert_error(await author.post("/auth/email-verification"), 409, "CONFLICT")
    assert_error(await anon.post("/auth/email-verification"), 401, "AUTHENTICATION_ERROR")


async def test_an_expired_or_wrong_purpose_token_does_not_verify(
    author: Person,
    anon: httpx.AsyncClient,
    worker: Worker,
    mailbox: Mailbox,
    services: Services,
) -> None:
    await anon.post("/auth/password-reset", json={"email": author.email})
    await worker.drain()
    verify_mail, reset_mail = mailbox.to(author.email)
    assert reset_mail.subject == "Reset your password"
    wrong_purpose = await anon.post("/auth/verify-email", json={"token": reset_mail.token})
    assert_error(wrong_purpose, 400, "VALIDATION_ERROR")
    async with services.db.write() as conn:
        await conn.execute(email_tokens.update().values(expires_at=email_tokens.c.created_at))
    expired = await anon.post("/auth/verify-email", json={"token": verify_mail.token})
    assert assert_error(expired, 400, "VALIDATION_ERROR")["details"] == {
        "token": ["is invalid or has expired"]
    }
    for garbage in ("x", "A" * 43, "💥" * 10):
        assert_error(
            await anon.post("/auth/verify-email", json={"token": garbage}), 400, "VALIDATION_ERROR"
        )


@pytest.mark.parametrize(
    "settings_overrides",
    [{"email_verification_required": True, "email_link_base_url": LINK_BASE}],
)
async def test_unverified_accounts_read_but_do_not_post_when_verification_is_required(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    post = {"title": "T", "content": "C", "published": False}
    refused = await author.post("/posts", json=post)
    error = assert_error(refused, 403, "AUTHORIZATION_ERROR")
    assert "verif" in error["message"].lower()
    assert (await author.get("/posts")).status_code == 200
    await worker.drain()
    token = mailbox.to(author.email)[0].token
    assert (await anon.post("/auth/verify-email", json={"token": token})).status_code == 204
    assert (await author.post("/posts", json=post)).status_code == 201
