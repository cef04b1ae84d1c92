"""OWASP API4 (unrestricted resource consumption): every size the client controls has a limit,
the limit itself is accepted, one past it is a 400 (or 413) envelope, never a 500."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import PASSWORD, Person, assert_error

KIB = 1024
_emails = itertools.count(1)


def sign_up_body(**changes: Any) -> dict[str, Any]:
    profile = {"firstName": "Ann", "lastName": "Limit"}
    profile.update(changes.pop("profile", {}))
    email = f"limit{next(_emails)}@example.com"
    return {"email": email, "password": PASSWORD, "profile": profile, **changes}


OUT_OF_RANGE_PAGES = (
    "limit=101",
    "limit=0",
    "limit=-1",
    "limit=1000000000000000000000",
    "limit=abc",
    "limit=1.5",
    "limit=",
    "page=0",
    "page=-1",
    "page=1000001",
    "page=99999999999999999999999",
    "page=NaN",
    "page=1e3",
)


async def test_out_of_range_pagination_is_a_400(anon: httpx.AsyncClient) -> None:
    failures = []
    for query in OUT_OF_RANGE_PAGES:
        for collection in ("/posts", "/tags", "/users/1/posts", "/tags/x/posts"):
            reply = await anon.get(f"{collection}?{query}")
            details = reply.json().get("error", {}).get("details", {})
            if (
                reply.status_code != 400
                or not set(details)
                or not set(details) <= {"page", "limit"}
            ):
                failures.append(f"{collection}?{query}: {reply.status_code} {reply.text[:120]}")
    assert failures == []


async def test_largest_page_is_accepted(anon: httpx.AsyncClient, author: Person) -> None:
    for collection in ("/posts", "/tags"):
        reply = await anon.get(f"{collection}?limit=100&page=1000000")
        assert reply.status_code == 200, reply.text
        assert reply.json()["data"] == []
    assert (await author.get("/users?limit=100")).status_code == 200


async def post_raw(person: Person | httpx.AsyncClient, url: str, content: Any) -> httpx.Response:
    """POST a body exactly as given (not encoded by httpx), as a person or anonymously."""
    headers = {"Content-Type": "application/json"}
    if isinstance(person, Person):
        headers.update(person.headers)
        return await person.http.post(url, content=content, headers=headers)
    return await person.post(url, content=content, headers=headers)


async def test_body_over_the_limit_is_a_413(author: Person) -> None:
    big = "x" * (1024 * KIB + 1)
    reply = await post_raw(author, "/posts", big)
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")


async def test_streamed_body_over_the_limit_is_a_413(author: Person) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * (64 * KIB)
        yield b"{}"

    reply = await post_raw(author, "/posts", chunks())
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")


async def test_deeply_nested_json_is_a_400(anon: httpx.AsyncClient, author: Person) -> None:
    for depth in (100, 10_000, 100_000):
        body = "[" * depth + "]" * depth
        reply = await post_raw(author, "/posts", body)
        assert_error(reply, 400, "VALIDATION_ERROR")
        nested_object = '{"a":' * depth + "1" + "}" * depth
        reply = await post_raw(anon, "/auth/login", nested_object)
        assert_error(reply, 400, "VALIDATION_ERROR")


async def test_huge_numbers_in_a_body_are_a_400(author: Person) -> None:
    for raw in ('{"title": "t", "content": "c", "published": 1e400}', '{"title": 1e999999}'):
        reply = await post_raw(author, "/posts", raw)
        assert_error(reply, 400, "VALIDATION_ERROR")


# (route, body factory given a length, the limit, the field path in `details`)
Send = Callable[[Person, httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def _first_name(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.post("/users", json=sign_up_body(profile={"firstName": "F" * n}))


async def _last_name(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.patch(f"/users/{p.id}", json={"profile": {"lastName": "L" * n}})


async def _bio(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.patch(f"/users/{p.id}", json={"profile": {"bio": "b" * n}})


async def _avatar(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    url = "https://example.com/" + "a" * (n - len("https://example.com/"))
    return await p.patch(f"/users/{p.id}", json={"profile": {"avatarUrl": url}})


async def _email(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    # 64-character local part (RFC 5321's limit), labels of at most 63: a valid address of n.
    local = "e" * 64
    domain_len = n - len(local) - 1 - len(".com")
    labels = []
    while domain_len > 0:
        size = min(63, domain_len)
        labels.append("d" * size)
        domain_len -= size + 1
    domain = ".".join(labels)[: n - len(local) - 1 - len(".com")] + ".com"
    return await a.post("/users", json=sign_up_body(email=f"{local}@{domain}"))


async def _sign_up_password(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    password = ("Aa1-" * n)[:n]
    return await a.post("/users", json=sign_up_body(password=password))


async def _login_password(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.post("/auth/login", json={"email": p.email, "password": "p" * n})


async def _login_email(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.post("/auth/login", json={"email": "e" * n, "password": "x"})


async def _refresh_token(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.post("/auth/refresh", json={"refreshToken": "r" * n})


async def _title(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.post("/posts", json={"title": "t" * n, "content": "c"})


async def _content(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.post("/posts", json={"title": "t", "content": "c" * n})


async def _tag_name(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.post("/posts", json={"title": "t", "content": "c", "tags": ["g" * n]})


async def _tag_count(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    tags = [f"tag{i}" for i in range(n)]
    return await p.post("/posts", json={"title": "t", "content": "c", "tags": tags})


async def _search(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.get("/posts", params={"q": "q" * n})


async def _user_search(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await p.get("/users", params={"q": "q" * n})


async def _tag_filter(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.get("/posts", params={"tag": "t" * n})


async def _sort(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    sort = "title," + " " * (n - len("title,created_at")) + "created_at"
    return await a.get("/posts", params={"sort": sort})


async def _slug_path(p: Person, a: httpx.AsyncClient, n: int) -> httpx.Response:
    return await a.get("/tags/" + "s" * n)


# name: (send, limit, field path of the error, statuses accepted at the limit)
LIMITS: dict[str, tuple[Send, int, str, set[int]]] = {
    "firstName": (_first_name, 100, "profile.firstName", {201}),
    "lastName": (_last_name, 100, "profile.lastName", {200}),
    "bio": (_bio, 2000, "profile.bio", {200}),
    "avatarUrl": (_avatar, 2048, "profile.avatarUrl", {200}),
    "email": (_email, 254, "email", {201}),
    "sign-up password": (_sign_up_password, 128, "password", {201}),
    "login password": (_login_password, 1024, "password", {401}),
    "login email": (_login_email, 320, "email", {401}),
    "refreshToken": (_refresh_token, 512, "refreshToken", {401}),
    "title": (_title, 255, "title", {201}),
    "content": (_content, 100_000, "content", {201}),
    "tag name": (_tag_name, 50, "tags.0", {201}),
    "tag count": (_tag_count, 10, "tags", {201}),
    "q (posts)": (_search, 100, "q", {200}),
    "q (users)": (_user_search, 100, "q", {200}),
    "tag filter": (_tag_filter, 50, "tag", {200}),
    "sort": (_sort, 200, "sort", {200}),
    "tag slug in the path": (_slug_path, 50, "slug", {404}),
}


async def test_every_field_takes_its_limit_and_refuses_one_more(
    author: Person, anon: httpx.AsyncClient
) -> None:
    failures = []
    for name, (send, limit, path, accepted) in LIMITS.items():
        at_limit = await send(author, anon, limit)
        if at_limit.status_code not in accepted:
            failures.append(f"{name} at {limit}: {at_limit.status_code} {at_limit.text[:150]}")
        over = await send(author, anon, limit + 1)
        details = over.json().get("error", {}).get("details", {})
        if over.status_code != 400 or path not in details:
            failures.append(f"{name} at {limit + 1}: {over.status_code} {over.text[:150]}")
    assert failures == []


async def test_huge_query_string_is_refused_without_a_500(
    anon: httpx.AsyncClient, author: Person
) -> None:
    many = "&".join(f"p{i}=1" for i in range(3_000))
    reply = await anon.get(f"/posts?{many}")
    assert reply.status_code == 200, reply.text[:200]
    repeated = "&".join(["sort=title"] * 1000)
    reply = await anon.get(f"/posts?{repeated}")
    assert reply.status_code in {200, 400}, reply.text[:200]
    huge = await anon.get("/posts", params={"q": "x" * 60_000})
    assert_error(huge, 400, "VALIDATION_ERROR")
    huge_sort = await author.get("/users", params={"sort": ",".join(["created_at"] * 3000)})
    assert_error(huge_sort, 400, "VALIDATION_ERROR")


async def test_too_many_sort_keys_is_a_400(anon: httpx.AsyncClient) -> None:
    reply = await anon.get("/posts?sort=title,-created_at,published_at,title,created_at")
    assert_error(reply, 400, "VALIDATION_ERROR")
