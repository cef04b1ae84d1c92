"""/healthz, /readyz and /metrics: what an orchestrator and a Prometheus scraper rely on."""

from __future__ import annotations

import re

import httpx

from pressroom.app import create_app
from tests.conftest import Person, assert_error, make_settings
from tests.posts.factories import create_post

ROOT = "http://testserver"


def request_count(metrics: str, method: str, route: str, status: int) -> float:
    pattern = re.compile(
        r"^pressroom_http_requests_total\{(?P<labels>.*)\} (?P<value>[0-9.e+]+)$", re.M
    )
    wanted = {f'method="{method}"', f'route="{route}"', f'status="{status}"'}
    for match in pattern.finditer(metrics):
        if set(match["labels"].split(",")) == wanted:
            return float(match["value"])
    return 0.0


async def test_healthz_answers_ok(anon: httpx.AsyncClient) -> None:
    reply = await anon.get(f"{ROOT}/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


async def test_readyz_checks_the_database(anon: httpx.AsyncClient) -> None:
    reply = await anon.get(f"{ROOT}/readyz")
    assert reply.status_code == 200
    assert reply.json()["checks"]["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    # Nothing listens on port 9 (discard) of loopback: a refused connection, not a mock.
    app = create_app(
        make_settings("postgresql://postgres@127.0.0.1:9/none", database_timeout_seconds=2)
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
            reply = await http.get("/readyz")
            assert_error(reply, 503, "SERVICE_UNAVAILABLE")
            assert int(reply.headers["retry-after"]) > 0
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await app.state.services.close()


async def test_metrics_count_requests_by_full_route_template(
    author: Person, anon: httpx.AsyncClient
) -> None:
    post = await create_post(author)
    for _ in range(3):
        assert (await anon.get(f"/posts/{post['id']}")).status_code == 200
    assert (await anon.get("/posts/999999")).status_code == 404
    assert (await anon.get("/tags/none")).status_code == 404
    assert (await anon.get("/no/such/route")).status_code == 404
    reply = await anon.get(f"{ROOT}/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    text = reply.text
    assert request_count(text, "GET", "/api/v1/posts/{post_id}", 200) == 3
    assert request_count(text, "GET", "/api/v1/posts/{post_id}", 404) == 1
    assert request_count(text, "GET", "/api/v1/tags/{slug}", 404) == 1
    assert request_count(text, "POST", "/api/v1/posts", 201) == 1
    assert request_count(text, "POST", "/api/v1/auth/login", 200) == 1
    # Unmatched paths share one label, so scanners cannot blow up the series count.
    assert request_count(text, "GET", "<unmatched>", 404) == 1
    assert "/no/such/route" not in text
    assert str(post["id"]) not in re.findall(r'route="([^"]*)"', text)
    assert re.search(
        r'^pressroom_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/posts/\{post_id\}"\} 4\.0$',
        text,
        re.M,
    ), text


async def test_metrics_count_published_posts(author: Person, anon: httpx.AsyncClient) -> None:
    await create_post(author, published=True)
    draft = await create_post(author, published=False)
    await author.patch(f"/posts/{draft['id']}", json={"published": True})
    text = (await anon.get(f"{ROOT}/metrics")).text
    assert 'pressroom_events_total{event="post_published"} 2.0' in text


async def test_operations_routes_are_outside_the_api_prefix(anon: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert_error(await anon.get(path), 404, "NOT_FOUND")
