"""OWASP API8 (security misconfiguration) and ASVS V16: odd methods are refused, error bodies
never carry internals, unexpected failures answer a generic 500."""

from __future__ import annotations

import httpx
import pytest

from pressroom.app import ConfigurationError, create_app
from pressroom.services import Services
from tests.conftest import Person, assert_error, make_settings
from tests.security.fuzzing import LEAK, serving


def assert_no_internals(reply: httpx.Response) -> None:
    assert not LEAK.search(reply.text), reply.text[:500]
    assert set(reply.json()) == {"error"}, reply.text[:200]


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT", "PROPFIND", "FOO"])
async def test_odd_methods_are_refused_with_the_envelope(
    method: str, anon: httpx.AsyncClient
) -> None:
    for url in ("/posts", "/users/me", "/auth/login"):
        reply = await anon.request(method, url, headers={"X-Probe": "reflected?"})
        assert_error(reply, 405, "METHOD_NOT_ALLOWED")
        assert "reflected?" not in reply.text
        assert "allow" in reply.headers


async def test_errors_carry_no_internals(author: Person, anon: httpx.AsyncClient) -> None:
    json_headers = {"Content-Type": "application/json", **author.headers}
    replies = [
        await anon.get("/nowhere"),
        await anon.get("/posts/9223372036854775808"),
        await anon.get("/posts/abc"),
        await anon.get("/posts?limit=abc&page=x&sort=nope"),
        await anon.get("/posts?sort=password_hash"),
        await anon.get("/tags/%00"),
        await anon.get("/users/me"),
        await anon.post("/auth/login", content=b"{not json", headers=json_headers),
        await anon.post("/auth/login", content=b"\xff\xfe\x00", headers=json_headers),
        await anon.post("/auth/login", content=b"[]", headers=json_headers),
        await anon.post("/auth/login", content=b"null", headers=json_headers),
        await anon.post("/auth/login", content=b"email=a", headers={"Content-Type": "text/plain"}),
        await anon.post("/posts", content=b'{"title": "t"}', headers=json_headers),
        await anon.post(
            "/posts", content=b'{"title": "t\\u0000", "content": "c"}', headers=json_headers
        ),
        await anon.post(
            "/posts", content=b'{"title": "\\ud800", "content": "c"}', headers=json_headers
        ),
        await anon.patch("/users/1", content=b'{"roles": "admin"}', headers=json_headers),
        await anon.delete("/posts"),
    ]
    for reply in replies:
        assert 400 <= reply.status_code < 500, (reply.request.url, reply.text[:200])
        assert_no_internals(reply)


async def test_unexpected_failure_is_a_generic_500(
    services: Services, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("SELECT password_hash FROM users -- /work/src/pressroom/secret.py")

    monkeypatch.setattr(services.posts, "list_posts", broken)
    reply = await anon.get("/posts")
    assert_error(reply, 500, "INTERNAL_ERROR")
    assert_no_internals(reply)
    assert "password_hash" not in reply.text
    assert "x-request-id" in reply.headers


async def test_request_id_header_is_not_reflected_when_hostile(anon: httpx.AsyncClient) -> None:
    for hostile in ("<script>alert(1)</script>", "a" * 500, "id\r\nSet-Cookie: x=1"[:8] + " x"):
        reply = await anon.get("/posts", headers={"X-Request-ID": hostile})
        assert reply.headers["x-request-id"] != hostile


async def test_auth_responses_are_not_cached(author: Person, anon: httpx.AsyncClient) -> None:
    replies = [
        await anon.post("/auth/login", json={"email": author.email, "password": author.password}),
        await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token}),
        await author.get("/users/me/sessions"),
    ]
    for reply in replies:
        assert reply.status_code == 200, reply.text
        assert reply.headers["cache-control"] == "no-store"


async def test_docs_are_off_in_production(database_url: str) -> None:
    app = create_app(
        make_settings(
            database_url,
            pressroom_env="production",
            jwt_secret="p" * 48,
            rate_limits_enabled=True,
            smtp_url="smtp://127.0.0.1:25",
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        assert (await http.get("/docs")).status_code == 404
    await app.state.services.close()


async def test_production_refuses_the_development_secret(database_url: str) -> None:
    with pytest.raises(ConfigurationError):
        create_app(
            make_settings(database_url, pressroom_env="production", rate_limits_enabled=True)
        )


async def test_nul_characters_in_any_string_never_cause_a_500(
    author: Person, anon: httpx.AsyncClient
) -> None:
    # PostgreSQL cannot hold a NUL in text; SQLite can. Either way the client gets a 4xx or an
    # honest empty answer, never a failed query.
    replies = [
        await anon.get("/tags/a%00b"),
        await anon.get("/tags/%00/posts"),
        await anon.get("/posts?q=%00"),
        await anon.get("/posts?tag=%00"),
        await author.get("/users?q=%00"),
        await author.get("/users?role=%00"),
        await anon.get("/posts?sort=%00"),
        await anon.post("/auth/login", json={"email": "a\u0000@example.com", "password": "x"}),
        await anon.post("/auth/refresh", json={"refreshToken": "\u0000"}),
        await author.patch("/tags/a%00", json={"name": "x"}),
        await author.post("/posts", json={"title": "t", "content": "c", "tags": ["a\u0000b"]}),
    ]
    for reply in replies:
        assert reply.status_code < 500, (reply.request.url, reply.text[:200])
        if reply.status_code >= 400:
            assert_no_internals(reply)


EVIL_ORIGIN = "https://evil.example"


async def test_cors_is_off_by_default(anon: httpx.AsyncClient) -> None:
    reply = await anon.get("/posts", headers={"Origin": EVIL_ORIGIN})
    assert "access-control-allow-origin" not in reply.headers
    preflight = await anon.options(
        "/posts",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400


@pytest.mark.parametrize(
    "settings_overrides", [{"cors_allow_origins": ["https://app.example"]}], indirect=False
)
async def test_cors_never_reflects_an_unlisted_origin(anon: httpx.AsyncClient) -> None:
    for origin in (
        EVIL_ORIGIN,
        "null",
        "https://app.example.evil.example",
        "https://APP.example.x",
    ):
        reply = await anon.get("/posts", headers={"Origin": origin})
        assert reply.headers.get("access-control-allow-origin") is None, origin
        preflight = await anon.options(
            "/posts",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert preflight.headers.get("access-control-allow-origin") is None, origin
        assert preflight.status_code == 400
        assert set(preflight.json()) == {"error"}
    allowed = await anon.get("/posts", headers={"Origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in allowed.headers


def test_real_server_names_no_software_and_refuses_trace() -> None:
    with serving() as base:
        replies = [
            httpx.get(f"{base}/api/v1/posts"),
            httpx.get(f"{base}/api/v1/nowhere"),
            httpx.request("TRACE", f"{base}/api/v1/posts"),
            httpx.post(f"{base}/api/v1/auth/login", content=b"{", headers=JSON),
        ]
        for reply in replies:
            assert "server" not in reply.headers, reply.headers
            assert "x-powered-by" not in reply.headers
            assert reply.headers["x-content-type-options"] == "nosniff"
        assert replies[2].status_code == 405
        assert replies[2].headers["allow"] == "GET, HEAD, POST"
        # HEAD through a real server: GET's status and headers, and no body.
        head = httpx.head(f"{base}/api/v1/posts")
        assert head.status_code == 200
        assert head.headers["content-type"] == replies[0].headers["content-type"]
        assert head.content == b""


JSON = {"Content-Type": "application/json"}
