"""GraphQL spends the same allowances as REST: a login or sign-up through either door counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Person, assert_error
from tests.graphql.conftest import GRAPHQL_URL

LOGIN = """mutation($email: String!, $password: String!) {
    login(input: {email: $email, password: $password}) { tokens { accessToken }
    errors { field message code } } }"""
SIGN_UP = """mutation($email: String!) { createUser(input: {email: $email,
    password: "Correct-Horse-42", profile: {firstName: "A", lastName: "B"}}) {
    user { id } errors { code message } } }"""


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limits_enabled": True,
        "rate_limit_failed_logins_per_account": "3 per 15 minutes",
        "rate_limit_sign_up_per_address": "2/hour",
    }


async def test_failed_logins_through_both_doors_share_one_allowance(
    anon: httpx.AsyncClient, author: Person
) -> None:
    wrong = {"email": author.email, "password": "Wrong-Password-1"}
    for _ in range(2):
        reply = await anon.post("/auth/login", json=wrong)
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
    reply = await anon.post(GRAPHQL_URL, json={"query": LOGIN, "variables": wrong})
    assert reply.json()["data"]["login"]["errors"][0]["code"] == "AUTHENTICATION_ERROR"
    right = {"email": author.email, "password": PASSWORD}
    reply = await anon.post(GRAPHQL_URL, json={"query": LOGIN, "variables": right})
    payload = reply.json()["data"]["login"]
    assert payload["tokens"] is None
    assert [e["code"] for e in payload["errors"]] == ["RATE_LIMITED"]
    assert int(reply.headers["retry-after"]) >= 1
    assert_error(await anon.post("/auth/login", json=right), 429, "RATE_LIMITED")


async def test_sign_ups_through_graphql_count_per_address(anon: httpx.AsyncClient) -> None:
    for n in range(2):
        variables = {"email": f"new{n}@example.com"}
        reply = await anon.post(GRAPHQL_URL, json={"query": SIGN_UP, "variables": variables})
        assert reply.json()["data"]["createUser"]["errors"] == []
    variables = {"email": "new3@example.com"}
    reply = await anon.post(GRAPHQL_URL, json={"query": SIGN_UP, "variables": variables})
    assert [e["code"] for e in reply.json()["data"]["createUser"]["errors"]] == ["RATE_LIMITED"]
    assert "retry-after" in reply.headers
