"""The GraphQL door under the same attacks as REST: forged tokens, batching logins through
aliases or a JSON array, server-owned fields in inputs, and objects of other users."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pressroom.services import Services
from tests.conftest import PASSWORD, Person
from tests.graphql.conftest import GRAPHQL_URL, error_codes, graphql
from tests.security.forge import ServerKey, claims_of, hand_made
from tests.security.fuzzing import LEAK

ME = "{ currentUser { id email } }"


def aliased_logins(count: int) -> str:
    fields = " ".join(
        f'a{i}: login(input: {{email: $email, password: "Wrong-Horse-{i}"}}) '
        "{ tokens { accessToken } errors { code } }"
        for i in range(count)
    )
    return f"mutation($email: String!) {{ {fields} }}"


async def test_forged_tokens_are_refused_by_graphql_too(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    key = ServerKey.of(services.settings)
    claims = claims_of(author.access_token)
    forged = [
        hand_made({"alg": "none", "kid": key.kid}, claims, None),
        hand_made({"alg": "HS256", "kid": "../../x"}, claims, key.secret),
        key.sign({**claims, "aud": "someone-else"}),
        author.refresh_token,
    ]
    for token in forged:
        reply = await anon.post(
            GRAPHQL_URL, json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
        )
        assert reply.status_code == 401, reply.text
        assert "AUTHENTICATION_ERROR" in reply.text
        assert not LEAK.search(reply.text)


async def test_token_in_the_graphql_query_string_is_ignored(
    author: Person, anon: httpx.AsyncClient
) -> None:
    reply = await anon.post(
        GRAPHQL_URL, params={"access_token": author.access_token}, json={"query": ME}
    )
    assert reply.status_code == 200
    assert reply.json()["data"]["currentUser"] is None


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limits_enabled": True, "rate_limit_failed_logins_per_account": "3 per 15 minutes"}],
)
async def test_logins_batched_through_aliases_count_one_attempt_each(
    author: Person, anon: httpx.AsyncClient, services: Services
) -> None:
    before = services.hasher.verifications
    body = await graphql(anon, aliased_logins(6), {"email": author.email})
    codes = [body["data"][f"a{i}"]["errors"][0]["code"] for i in range(6)]
    # The author's own sign-in spent nothing (it succeeded); the batch has three to spend.
    assert codes.count("AUTHENTICATION_ERROR") == 3, codes
    assert codes.count("RATE_LIMITED") == 3, codes
    # Throttled attempts do no hash work, so a batch cannot buy guesses past the allowance.
    assert services.hasher.verifications - before == 3
    right = await anon.post("/auth/login", json={"email": author.email, "password": PASSWORD})
    assert right.status_code == 429


async def test_json_array_batches_are_refused_without_a_500(anon: httpx.AsyncClient) -> None:
    batch: list[dict[str, Any]] = [{"query": ME}] * 50
    reply = await anon.post(GRAPHQL_URL, json=batch)
    assert 400 <= reply.status_code < 500, reply.text[:300]
    assert not LEAK.search(reply.text)


async def test_server_owned_fields_are_not_inputs(author: Person) -> None:
    attempts = [
        'mutation { createUser(input: {email: "x@example.com", password: "Correct-Horse-42", '
        'profile: {firstName: "A", lastName: "B"}, roles: ["admin"]}) { user { id } } }',
        'mutation { createPost(input: {title: "t", content: "c", userId: "1", '
        'publishedAt: "2000-01-01T00:00:00Z"}) { post { id } } }',
        "mutation($id: ID!) { updateUser(id: $id, input: {emailVerified: true}) { user { id } } }",
    ]
    for query in attempts:
        body = await graphql(author, query, {"id": str(author.id)} if "$id" in query else None)
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}, body
        assert body.get("data") is None


async def test_user_cannot_grant_themself_a_role_through_graphql(author: Person) -> None:
    query = (
        'mutation($id: ID!) { updateUser(id: $id, input: {roles: ["admin"]}) '
        "{ user { roles } errors { code } } }"
    )
    body = await graphql(author, query, {"id": str(author.id)})
    assert [e["code"] for e in body["data"]["updateUser"]["errors"]] == ["AUTHORIZATION_ERROR"]
    me = await author.get("/users/me")
    assert me.json()["roles"] == ["user"]


async def test_other_users_objects_through_graphql(author: Person, stranger: Person) -> None:
    draft = await author.post("/posts", json={"title": "Secret", "content": "x"})
    draft_id = str(draft.json()["id"])
    body = await graphql(stranger, "query($id: ID!) { post(id: $id) { title } }", {"id": draft_id})
    assert body["data"]["post"] is None
    body = await graphql(
        stranger,
        "query($id: ID!) { user(id: $id) { email roles } }",
        {"id": str(author.id)},
    )
    assert body == {"data": {"user": {"email": None, "roles": None}}}
    for mutation in (
        'mutation($id: ID!) { updatePost(id: $id, input: {title: "Pwned"}) { errors { code } } }',
        "mutation($id: ID!) { deletePost(id: $id) { errors { code } } }",
    ):
        body = await graphql(stranger, mutation, {"id": draft_id})
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"], body
    for mutation in (
        'mutation($id: ID!) { updateUser(id: $id, input: {profile: {bio: "x"}}) '
        "{ errors { code } } }",
        "mutation($id: ID!) { deleteUser(id: $id) { errors { code } } }",
    ):
        body = await graphql(stranger, mutation, {"id": str(author.id)})
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["errors"]] == ["AUTHORIZATION_ERROR"], body
    assert (await author.get(f"/posts/{draft_id}")).json()["title"] == "Secret"
