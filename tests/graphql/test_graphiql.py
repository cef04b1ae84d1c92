"""GET /graphql from a browser: GraphiQL where /docs is served, with every asset from this
server; in production a 404 envelope. Queries over GET are never mistaken for the page.
(tests/operations/test_graphiql_browser.py runs the page in a real browser.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pressroom.app import create_app
from tests.conftest import assert_error, make_settings
from tests.operations.test_production import production_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.services.close()


@pytest.fixture
async def development(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for http in serving(create_app(make_settings(database_url))):
        yield http


@pytest.fixture
async def production(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for http in serving(production_app(database_url)):
        yield http


async def test_a_browser_gets_graphiql_with_its_assets_from_this_server(
    development: httpx.AsyncClient,
) -> None:
    page = await development.get("/graphql", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy
    # The favicon is an empty data: URL, so the browser asks for no /favicon.ico either.
    assets = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if u != "data:,"]
    assert len(assets) == 6
    for asset in assets:
        assert asset.startswith("/graphql/assets/"), asset
        reply = await development.get(asset)
        assert reply.status_code == 200, asset
        kind = "javascript" if asset.endswith(".js") else "css"
        assert kind in reply.headers["content-type"], asset


async def test_other_gets_are_graphql_requests_not_the_page(
    development: httpx.AsyncClient,
) -> None:
    for accept in ("*/*", "application/json"):
        reply = await development.get("/graphql", headers={"Accept": accept})
        assert_error(reply, 400, "VALIDATION_ERROR")
    query = await development.get(
        "/graphql", params={"query": "{ tags { totalCount } }"}, headers=BROWSER
    )
    assert query.status_code == 200
    assert isinstance(query.json()["data"]["tags"]["totalCount"], int)


async def test_production_serves_no_ide_and_no_assets(production: httpx.AsyncClient) -> None:
    # GET stays a method of /graphql (queries over GET), so this is a 404, not a 405.
    assert_error(await production.get("/graphql", headers=BROWSER), 404, "NOT_FOUND")
    assert_error(await production.get("/graphql/assets/start.js"), 404, "NOT_FOUND")
    query = await production.get("/graphql", params={"query": "{ tags { totalCount } }"})
    assert isinstance(query.json()["data"]["tags"]["totalCount"], int)
