"""Every non-2xx reply, ours or the framework's, is the one envelope of docs/api.md."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, Person, assert_error
from tests.posts.factories import create_post

ROOT = "http://testserver"


async def test_unknown_route_is_404_in_the_envelope(anon: httpx.AsyncClient) -> None:
    for url in ["/nowhere", "/posts/1/nothing", f"{ROOT}/nowhere", f"{ROOT}/"]:
        assert_error(await anon.get(url), 404, "NOT_FOUND")


async def test_wrong_method_is_405_with_allow(anon: httpx.AsyncClient) -> None:
    for method, url, allowed in [
        # HEAD answers wherever GET does, so Allow names it too.
        ("PUT", "/posts", {"GET", "HEAD", "POST"}),
        ("PUT", "/posts/1", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("POST", "/tags", {"GET", "HEAD"}),
        ("DELETE", "/users/me/sessions", {"GET", "HEAD"}),
        ("PUT", "/tags/x/posts", {"GET", "HEAD"}),
        ("POST", "http://testserver/healthz", {"GET", "HEAD"}),
    ]:
        reply = await anon.request(method, url)
        assert_error(reply, 405, "METHOD_NOT_ALLOWED")
        assert {m.strip() for m in reply.headers["allow"].split(",")} == allowed


async def test_validation_errors_name_dotted_field_paths(anon: httpx.AsyncClient) -> None:
    body = {"email": "not-an-email", "password": PASSWORD, "profile": {"lastName": "X"}}
    error = assert_error(await anon.post("/users", json=body), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"email", "profile.firstName"}
    assert all(isinstance(m, str) and m for ms in error["details"].values() for m in ms)


async def test_nested_unknown_fields_are_named_by_path(anon: httpx.AsyncClient) -> None:
    body = {
        "email": "a@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "A", "lastName": "B", "role": "admin"},
        "roles": ["admin"],
    }
    error = assert_error(await anon.post("/users", json=body), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"profile.role", "roles"}


async def test_query_validation_errors_name_the_parameter(anon: httpx.AsyncClient) -> None:
    error = assert_error(await anon.get("/posts?author=abc"), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"author"}


async def test_malformed_json_is_400(author: Person) -> None:
    for raw in [b"{bad", b'{"title": "T",}', b"", b"\xff\xfe"]:
        headers = {**author.headers, "Content-Type": "application/json"}
        reply = await author.http.post("/posts", content=raw, headers=headers)
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert set(error["details"]) == {"body"}


async def test_a_json_body_that_is_not_an_object_is_400(author: Person) -> None:
    for raw in [b"[]", b'"text"', b"42", b"null"]:
        headers = {**author.headers, "Content-Type": "application/json"}
        reply = await author.http.post("/posts", content=raw, headers=headers)
        assert_error(reply, 400, "VALIDATION_ERROR")


async def test_a_body_that_is_not_json_is_415(author: Person, admin: Person) -> None:
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        None,
    ]:
        headers = {**author.headers}
        if content_type is not None:
            headers["Content-Type"] = content_type
        raw = b'{"title": "T", "content": "C"}'
        reply = await author.http.post("/posts", content=raw, headers=headers)
        assert_error(reply, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert (await admin.get("/posts", params={"published": "false"})).json()["data"] == []


async def test_json_media_types_with_parameters_or_suffixes_are_accepted(author: Person) -> None:
    for content_type in ["application/json; charset=utf-8", "application/merge-patch+json"]:
        raw = b'{"title": "T", "content": "C"}'
        headers = {**author.headers, "Content-Type": content_type}
        assert (await author.http.post("/posts", content=raw, headers=headers)).status_code == 201


async def test_bad_credentials_are_401_with_www_authenticate(anon: httpx.AsyncClient) -> None:
    for authorization in [
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
        "token",
    ]:
        reply = await anon.get("/users/me", headers={"Authorization": authorization})
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
        assert reply.headers["www-authenticate"].split()[0] == "Bearer"


async def test_missing_credentials_are_401_with_www_authenticate(anon: httpx.AsyncClient) -> None:
    """Authentication comes first: an anonymous write with a bad body is still a 401."""
    for reply in (
        await anon.get("/users/me"),
        await anon.post("/posts", json={}),
        await anon.patch("/posts/1", json={"title": None}),
        await anon.delete("/posts/1"),
        await anon.patch("/tags/x", json={"slug": "not a slug"}),
        await anon.delete("/tags/x"),
    ):
        assert_error(reply, 401, "AUTHENTICATION_ERROR")
        assert reply.headers["www-authenticate"].split()[0] == "Bearer"


async def test_a_token_in_the_query_string_is_ignored(
    author: Person, anon: httpx.AsyncClient
) -> None:
    reply = await anon.get("/users/me", params={"access_token": author.access_token})
    assert_error(reply, 401, "AUTHENTICATION_ERROR")


async def test_forbidden_is_403(author: Person, stranger: Person) -> None:
    post = await create_post(author)
    reply = await stranger.patch(f"/posts/{post['id']}", json={"title": "X"})
    assert_error(reply, 403, "AUTHORIZATION_ERROR")
    assert "www-authenticate" not in reply.headers


async def test_conflict_is_409(author: Person, anon: httpx.AsyncClient) -> None:
    body = {"email": author.email.upper(), "password": PASSWORD}
    reply = await anon.post("/users", json={**body, "profile": {"firstName": "A", "lastName": "B"}})
    assert_error(reply, 409, "CONFLICT")
    assert author.email not in reply.text.lower()


async def test_impossible_request_is_422(author: Person) -> None:
    reply = await author.post("/posts", json={"title": "T", "content": "", "published": True})
    error = assert_error(reply, 422, "UNPROCESSABLE_ENTITY")
    assert "details" not in error or error["details"]


async def test_error_replies_are_json(anon: httpx.AsyncClient) -> None:
    for reply in (
        await anon.get("/nowhere"),
        await anon.put("/posts"),
        await anon.get("/users/me"),
    ):
        assert reply.headers["content-type"].startswith("application/json")


def _no_internals(body: dict[str, Any]) -> None:
    text = str(body).lower()
    for leak in ("traceback", "sqlalchemy", "select ", "/src/", ".py"):
        assert leak not in text, body


async def test_errors_leak_no_internals(anon: httpx.AsyncClient, author: Person) -> None:
    replies = [
        await anon.get("/posts/99999999999999999999999"),
        await anon.get("/posts", params={"page": "1e9"}),
        await author.http.post(
            "/posts",
            content=b"{bad",
            headers={**author.headers, "Content-Type": "application/json"},
        ),
        await anon.get("/posts", params={"limit": "-1"}),
    ]
    for reply in replies:
        assert 400 <= reply.status_code < 500, reply.text
        _no_internals(reply.json())


async def test_an_id_outside_the_stored_range_is_400(author: Person) -> None:
    for url, field in [
        ("/posts/99999999999999999999999", "post_id"),
        ("/posts/-99999999999999999999999", "post_id"),
        ("/posts/9223372036854775808", "post_id"),
        ("/posts/0", "post_id"),
        ("/posts?author=99999999999999999999999", "author"),
        ("/users/99999999999999999999999/posts", "user_id"),
    ]:
        error = assert_error(await author.get(url), 400, "VALIDATION_ERROR")
        assert set(error["details"]) == {field}
        for method in ("PATCH", "DELETE"):
            body = {"json": {"title": "T"}} if method == "PATCH" else {}
            if url.startswith("/posts/"):
                reply = await author.http.request(method, url, headers=author.headers, **body)
                assert_error(reply, 400, "VALIDATION_ERROR")


async def test_the_largest_stored_id_is_simply_not_found(anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/posts/9223372036854775807"), 404, "NOT_FOUND")
