"""Method routing, walked over every path of the OpenAPI document: a method a path does not
document is a 405 whose `Allow` lists exactly the documented ones (HEAD with GET), and HEAD
answers wherever GET does (RFC 9110 §9.3.2, §15.5.6)."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Person, assert_error

PROBED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
SAMPLE_PARAMETER = re.compile(r"\{[^}]+\}")


async def documented_paths(http: httpx.AsyncClient) -> dict[str, set[str]]:
    doc = (await http.get("http://testserver/openapi.json")).json()
    return {
        path: {method.upper() for method in operations} for path, operations in doc["paths"].items()
    }


async def test_every_path_answers_405_with_exactly_its_methods_and_head_with_get(
    anon: httpx.AsyncClient, author: Person
) -> None:
    paths = await documented_paths(anon)
    assert paths
    for path, methods in paths.items():
        allowed = methods | ({"HEAD"} if "GET" in methods else set())
        url = "http://testserver" + SAMPLE_PARAMETER.sub("1", path)
        for method in PROBED:
            reply = await anon.request(method, url, headers=author.headers)
            if method in allowed:
                assert reply.status_code != 405, (method, path)
                continue
            assert reply.status_code == 405, (method, path, reply.status_code)
            if method != "HEAD":  # a HEAD reply has no body to hold the envelope
                assert_error(reply, 405, "METHOD_NOT_ALLOWED")
            listed = {m.strip() for m in reply.headers["allow"].split(",")}
            assert listed == allowed, (method, path, listed)
        if "GET" in methods:
            get = await anon.get(url, headers=author.headers)
            head = await anon.head(url, headers=author.headers)
            assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
            assert head.headers.get("content-type") == get.headers.get("content-type"), path


async def test_patch_on_users_me_is_405_allowing_get_only(author: Person) -> None:
    """`/users/me` used to fall to `/users/{user_id}`: PATCH was a 400 on user_id ("me" is not
    an integer) and `Allow` listed PATCH and DELETE, which /users/me does not document."""
    reply = await author.patch("/users/me", json={"profile": {"bio": "x"}})
    assert_error(reply, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in reply.headers["allow"].split(",")} == {"GET", "HEAD"}
    assert_error(await author.delete("/users/me"), 405, "METHOD_NOT_ALLOWED")
    assert (await author.http.head("/users/me", headers=author.headers)).status_code == 200
    assert_error(await author.get("/users/abc"), 400, "VALIDATION_ERROR")
