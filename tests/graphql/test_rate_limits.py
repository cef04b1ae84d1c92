"""GraphQL spends the same allowances as REST: a login or sign-up through either door counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Person, assert_error
from tests.graphql.conftest import GRAPHQL_URL, assert_refusal

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


# Node allowances small enough to spend in a test; the per-request limit out of the way.
NODE_BUDGET = {
    "rate_limits_enabled": True,
    "rate_limit_per_address": "100000/minute",
    "rate_limit_per_user": "100000/minute",
    "rate_limit_graphql_cost_per_address": "3000/minute",
    "rate_limit_graphql_cost_per_user": "1000/minute",
}
CHEAP = "{ currentUser { id } }"  # cost 2
EXPENSIVE = "{ posts(first: 100) { edges { node { id title content } } } }"  # cost 501


@pytest.mark.parametrize("settings_overrides", [NODE_BUDGET])
async def test_six_hundred_cheap_queries_fit_the_allowance(anon: httpx.AsyncClient) -> None:
    for _ in range(600):
        reply = await anon.post(GRAPHQL_URL, json={"query": CHEAP})
        assert reply.json() == {"data": {"currentUser": None}}, reply.text
    assert '"graphql-cost";r=1800;' in reply.headers["ratelimit"]
    assert '"graphql-cost";q=3000;w=60' in reply.headers["ratelimit-policy"]


@pytest.mark.parametrize("settings_overrides", [NODE_BUDGET])
async def test_expensive_queries_spend_the_allowance_by_their_cost(
    anon: httpx.AsyncClient, count_statements: Any
) -> None:
    for _ in range(5):  # 5 x 501 of 3,000: three expensive queries are fine, and then some
        reply = await anon.post(GRAPHQL_URL, json={"query": EXPENSIVE})
        assert reply.json() == {"data": {"posts": {"edges": []}}}, reply.text
    with count_statements() as counter:
        reply = await anon.post(GRAPHQL_URL, json={"query": EXPENSIVE})
    assert counter.count == 0
    body = assert_refusal(reply, 429, "RATE_LIMITED")
    assert body["data"] is None
    assert 1 <= int(reply.headers["retry-after"]) <= 60
    # What is left (3,000 - 5 x 501 = 495) is less than the query costs; a refusal spends nothing.
    assert '"graphql-cost";r=495;' in reply.headers["ratelimit"]
    # A cheap query still fits in what is left; another expensive one does not.
    assert "errors" not in (await anon.post(GRAPHQL_URL, json={"query": CHEAP})).json()
    assert_refusal(await anon.post(GRAPHQL_URL, json={"query": EXPENSIVE}), 429, "RATE_LIMITED")
    # REST counts requests, not nodes: it still answers.
    assert (await anon.get("/posts")).status_code == 200


@pytest.mark.parametrize("settings_overrides", [NODE_BUDGET])
async def test_a_signed_in_user_has_an_allowance_of_their_own(
    author: Person, stranger: Person
) -> None:
    # 501 of the user's 1,000, then 1,002: refused.
    assert "errors" not in (await author.post(GRAPHQL_URL, json={"query": EXPENSIVE})).json()
    reply = await author.post(GRAPHQL_URL, json={"query": EXPENSIVE})
    assert_refusal(reply, 429, "RATE_LIMITED")
    assert '"graphql-cost-user";r=499;' in reply.headers["ratelimit"]  # 1,000 - 501
    # The same address, another user: their own allowance (the address's is not spent yet).
    assert "errors" not in (await stranger.post(GRAPHQL_URL, json={"query": EXPENSIVE})).json()
