"""Mutations: refusals come back in the payload's `errors` by field, with REST's codes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, Person
from tests.graphql.conftest import GRAPHQL_URL, data_of

CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
    user { id email roles profile { firstName lastName } } errors { field message code } } }"""
UPDATE_USER = """mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) {
    user { id profile { firstName bio } settings { emailNotifications } roles }
    errors { field message code } } }"""
CREATE_POST = """mutation($input: CreatePostInput!) { createPost(input: $input) {
    post { id title published publishedAt tags { name slug } author { id } }
    errors { field message code } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
    tokens { accessToken refreshToken tokenType expiresIn } errors { field message code } } }"""
REFRESH = """mutation($token: String!) { refreshToken(input: {refreshToken: $token}) {
    tokens { accessToken refreshToken } errors { field message code } } }"""


def new_user(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "new@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "New", "lastName": "Person"},
    }
    body.update(changes)
    return body


async def test_create_user_signs_up_with_the_full_view(anon: httpx.AsyncClient) -> None:
    payload = (await data_of(anon, CREATE_USER, {"input": new_user()}))["createUser"]
    assert payload["errors"] == []
    assert payload["user"]["email"] == "new@example.com"
    assert payload["user"]["roles"] == ["user"]


async def test_create_user_errors_by_field_match_rest(anon: httpx.AsyncClient) -> None:
    bad = new_user(email="not-an-email", password="short", profile={"firstName": ""})
    payload = (await data_of(anon, CREATE_USER, {"input": bad}))["createUser"]
    assert payload["user"] is None
    rest = (await anon.post("/users", json=bad)).json()["error"]
    assert rest["code"] == "VALIDATION_ERROR"
    expected = [
        {"field": field, "message": message, "code": "VALIDATION_ERROR"}
        for field, messages in rest["details"].items()
        for message in messages
    ]
    assert payload["errors"] == expected
    assert {e["field"] for e in payload["errors"]} >= {"email", "profile.firstName"}


async def test_weak_password_is_refused_by_field(anon: httpx.AsyncClient) -> None:
    payload = (await data_of(anon, CREATE_USER, {"input": new_user(password="password")}))[
        "createUser"
    ]
    assert payload["user"] is None
    assert {e["field"] for e in payload["errors"]} == {"password"}


async def test_duplicate_email_is_a_conflict_on_email(
    anon: httpx.AsyncClient, author: Person
) -> None:
    payload = (await data_of(anon, CREATE_USER, {"input": new_user(email=author.email)}))[
        "createUser"
    ]
    assert payload["errors"] == [
        {
            "field": "email",
            "message": "An account with this email already exists",
            "code": "CONFLICT",
        }
    ]


async def test_update_user_changes_only_what_is_given(author: Person) -> None:
    variables = {"id": str(author.id), "input": {"profile": {"bio": "Hello"}}}
    payload = (await data_of(author, UPDATE_USER, variables))["updateUser"]
    assert payload["errors"] == []
    assert payload["user"]["profile"] == {"firstName": "Ada", "bio": "Hello"}
    assert payload["user"]["settings"] == {"emailNotifications": True}


async def test_update_user_refuses_a_null_name_but_clears_a_bio(author: Person) -> None:
    variables = {"id": str(author.id), "input": {"profile": {"firstName": None}}}
    payload = (await data_of(author, UPDATE_USER, variables))["updateUser"]
    assert payload["errors"] == [
        {"field": "profile.firstName", "message": "must not be null", "code": "VALIDATION_ERROR"}
    ]
    variables = {"id": str(author.id), "input": {"profile": {"bio": None}}}
    assert (await data_of(author, UPDATE_USER, variables))["updateUser"]["errors"] == []


async def test_an_unknown_role_is_a_field_error(admin: Person, author: Person) -> None:
    variables = {"id": str(author.id), "input": {"roles": ["emperor"]}}
    payload = (await data_of(admin, UPDATE_USER, variables))["updateUser"]
    assert payload["user"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("roles.0", "VALIDATION_ERROR")]


async def test_a_malformed_id_is_a_field_error(author: Person) -> None:
    variables = {"id": "abc", "input": {}}
    payload = (await data_of(author, UPDATE_USER, variables))["updateUser"]
    assert payload["errors"] == [
        {"field": "id", "message": "must be a positive integer id", "code": "VALIDATION_ERROR"}
    ]


async def test_create_post_with_tags(author: Person) -> None:
    variables = {
        "input": {"title": "Hi", "content": "There", "published": True, "tags": ["Big News"]}
    }
    payload = (await data_of(author, CREATE_POST, variables))["createPost"]
    assert payload["errors"] == []
    post = payload["post"]
    assert post["tags"] == [{"name": "Big News", "slug": "big-news"}]
    assert post["author"] == {"id": str(author.id)}
    assert post["publishedAt"].endswith("Z")


async def test_publishing_an_empty_post_is_unprocessable(author: Person) -> None:
    variables = {"input": {"title": "Hi", "content": " ", "published": True}}
    payload = (await data_of(author, CREATE_POST, variables))["createPost"]
    assert payload["errors"] == [
        {
            "field": None,
            "message": "A post needs content before it can be published",
            "code": "UNPROCESSABLE_ENTITY",
        }
    ]


async def test_anonymous_create_post_learns_to_sign_in_first(anon: httpx.AsyncClient) -> None:
    variables = {"input": {"title": "", "content": "x"}}
    payload = (await data_of(anon, CREATE_POST, variables))["createPost"]
    assert payload["errors"] == [
        {"field": None, "message": "Authentication required", "code": "AUTHENTICATION_ERROR"}
    ]


async def test_login_gives_tokens_that_work_and_are_not_cached(
    anon: httpx.AsyncClient, author: Person
) -> None:
    variables = {"input": {"email": author.email, "password": PASSWORD}}
    reply = await anon.post(GRAPHQL_URL, json={"query": LOGIN, "variables": variables})
    assert reply.headers["cache-control"] == "no-store"
    payload = reply.json()["data"]["login"]
    assert payload["errors"] == []
    assert payload["tokens"]["tokenType"] == "Bearer"
    assert payload["tokens"]["expiresIn"] == 900
    headers = {"Authorization": f"Bearer {payload['tokens']['accessToken']}"}
    me = await anon.post(GRAPHQL_URL, json={"query": "{ currentUser { id } }"}, headers=headers)
    assert me.json()["data"]["currentUser"] == {"id": str(author.id)}


async def test_wrong_password_says_what_rest_says(anon: httpx.AsyncClient, author: Person) -> None:
    variables = {"input": {"email": author.email, "password": "Wrong-Password-1"}}
    payload = (await data_of(anon, LOGIN, variables))["login"]
    assert payload["tokens"] is None
    assert payload["errors"] == [
        {"field": None, "message": "Invalid email or password", "code": "AUTHENTICATION_ERROR"}
    ]


async def test_refresh_token_rotates(anon: httpx.AsyncClient, author: Person) -> None:
    first = (await data_of(anon, REFRESH, {"token": author.refresh_token}))["refreshToken"]
    assert first["errors"] == []
    assert first["tokens"]["refreshToken"] != author.refresh_token
    second = await data_of(anon, REFRESH, {"token": first["tokens"]["refreshToken"]})
    assert second["refreshToken"]["errors"] == []


async def test_delete_post_then_it_is_gone(author: Person, anon: httpx.AsyncClient) -> None:
    created = await author.post("/posts", json={"title": "T", "content": "C", "published": True})
    post_id = created.json()["id"]
    query = f'mutation {{ deletePost(id: "{post_id}") {{ deletedPostId errors {{ code }} }} }}'
    payload = (await data_of(author, query))["deletePost"]
    assert payload == {"deletedPostId": str(post_id), "errors": []}
    assert await data_of(anon, f'{{ post(id: "{post_id}") {{ id }} }}') == {"post": None}
