"""Email change: confirmation to the new address, notice to the old, nothing changed until the
token comes back; and the same rules and messages over GraphQL."""

from __future__ import annotations

from typing import Any

import httpx

from pressroom.jobs.worker import Worker
from tests.accounts.conftest import LINK_BASE
from tests.accounts.mailbox import Mailbox
from tests.conftest import PASSWORD, People, Person, assert_error

GRAPHQL = "http://testserver/graphql"


async def test_email_change_mails_both_addresses_and_changes_on_confirmation(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    await worker.drain()
    old = author.email
    reply = await author.post(
        "/users/me/email", json={"newEmail": "New@Example.com", "currentPassword": PASSWORD}
    )
    assert reply.status_code == 202, reply.text
    assert (await author.get("/users/me")).json()["email"] == old  # nothing changes yet
    await worker.drain()
    [confirmation] = mailbox.to("new@example.com")
    notice = mailbox.to(old)[-1]
    assert confirmation.subject == "Confirm your new email address"
    assert confirmation.link.startswith(f"{LINK_BASE}/confirm-email?token=")
    assert notice.subject == "Your email address is being changed"
    assert "new@example.com" in notice.part("plain")
    assert "token=" not in notice.part("plain") + notice.part("html")  # the old address gets no key

    confirm = {"token": confirmation.token}
    assert (await anon.post("/auth/email-change/confirm", json=confirm)).status_code == 204
    me = (await author.get("/users/me")).json()
    assert (me["email"], me["emailVerified"]) == ("new@example.com", True)
    assert_error(
        await anon.post("/auth/email-change/confirm", json=confirm), 400, "VALIDATION_ERROR"
    )
    signed_in = await anon.post(
        "/auth/login", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200


async def test_email_change_refuses_a_wrong_password_a_taken_address_and_strangers(
    author: Person, stranger: Person, anon: httpx.AsyncClient
) -> None:
    wrong = await author.post(
        "/users/me/email", json={"newEmail": "x@example.com", "currentPassword": "Wrong-Horse-1"}
    )
    assert assert_error(wrong, 400, "VALIDATION_ERROR")["details"] == {
        "currentPassword": ["is incorrect"]
    }
    taken = await author.post(
        "/users/me/email", json={"newEmail": stranger.email, "currentPassword": PASSWORD}
    )
    assert_error(taken, 409, "CONFLICT")
    bad = await author.post(
        "/users/me/email", json={"newEmail": "not-an-address", "currentPassword": PASSWORD}
    )
    assert set(assert_error(bad, 400, "VALIDATION_ERROR")["details"]) == {"newEmail"}
    anonymous = await anon.post(
        "/users/me/email", json={"newEmail": "x@example.com", "currentPassword": PASSWORD}
    )
    assert_error(anonymous, 401, "AUTHENTICATION_ERROR")


async def test_confirming_an_address_taken_meanwhile_is_a_conflict_and_keeps_the_token(
    author: Person, people: People, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    await author.post(
        "/users/me/email", json={"newEmail": "wanted@example.com", "currentPassword": PASSWORD}
    )
    await worker.drain()
    token = mailbox.to("wanted@example.com")[0].token
    squatter = await people.make(email="wanted@example.com")
    conflict = await anon.post("/auth/email-change/confirm", json={"token": token})
    assert_error(conflict, 409, "CONFLICT")
    assert (await squatter.delete(f"/users/{squatter.id}")).status_code == 204
    assert (await anon.post("/auth/email-change/confirm", json={"token": token})).status_code == 204


async def graphql(caller: Any, query: str, **variables: Any) -> dict[str, Any]:
    reply = await caller.post(GRAPHQL, json={"query": query, "variables": variables})
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["data"])


async def test_graphql_mutations_follow_the_same_rules_and_messages(
    author: Person, anon: httpx.AsyncClient, worker: Worker, mailbox: Mailbox
) -> None:
    await worker.drain()
    bad_token = await graphql(
        anon,
        "mutation($t: String!) { verifyEmail(token: $t) { ok errors { field message code } } }",
        t="nope",
    )
    assert bad_token["verifyEmail"] == {
        "ok": False,
        "errors": [
            {"field": "token", "message": "is invalid or has expired", "code": "VALIDATION_ERROR"}
        ],
    }
    for email in (author.email, "nobody@example.com"):
        asked = await graphql(
            anon,
            "mutation($e: String!) { requestPasswordReset(email: $e) { ok errors { field } } }",
            e=email,
        )
        assert asked["requestPasswordReset"] == {"ok": True, "errors": []}
    await worker.drain()
    token = mailbox.to(author.email)[-1].token
    reset = (
        "mutation($t: String!, $p: String!) {"
        " resetPassword(token: $t, newPassword: $p) { ok errors { field code } } }"
    )
    weak = await graphql(anon, reset, t=token, p="short")
    assert weak["resetPassword"]["ok"] is False
    assert {e["field"] for e in weak["resetPassword"]["errors"]} == {"newPassword"}
    done = await graphql(anon, reset, t=token, p="Brand-New-Horse-7")
    assert done["resetPassword"] == {"ok": True, "errors": []}

    change = (
        "mutation($e: String!, $p: String!) {"
        " requestEmailChange(newEmail: $e, currentPassword: $p) { ok errors { field code } } }"
    )
    anonymous = await graphql(anon, change, e="z@example.com", p="Brand-New-Horse-7")
    assert anonymous["requestEmailChange"]["errors"][0]["code"] == "AUTHENTICATION_ERROR"
    # The reset ended the author's session: GraphQL refuses the request as REST does.
    ended = await author.post(
        GRAPHQL, json={"query": "mutation { requestEmailVerification { ok } }"}
    )
    assert ended.status_code == 401
