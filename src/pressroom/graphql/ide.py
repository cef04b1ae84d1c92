"""GraphiQL, the in-browser GraphQL IDE, at `GET /graphql` for browsers where /docs is served
(development, or `DOCS_ENABLED=true`). Its scripts and styles ship inside the package, in
`graphiql/` (versions and licences in its THIRD_PARTY_NOTICES.txt), so it works offline and the
page may load nothing from anywhere else."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ENDPOINT = "/graphql"
ASSETS_PATH = "/graphql/assets"
ASSETS_DIRECTORY = Path(__file__).with_name("graphiql")
# GraphiQL sets inline styles and its stylesheet embeds its fonts as data: URLs; scripts and
# requests go to this server only.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{title}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{assets}/graphiql.min.css">
    <link rel="stylesheet" href="{assets}/page.css">
  </head>
  <body>
    <div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
    <script src="{assets}/react.production.min.js"></script>
    <script src="{assets}/react-dom.production.min.js"></script>
    <script src="{assets}/graphiql.min.js"></script>
    <script src="{assets}/start.js"></script>
  </body>
</html>
"""


def wants_graphiql(method: str, query: Mapping[str, object], headers: Mapping[str, str]) -> bool:
    """A browser opening the endpoint: a GET with no query that asks for HTML. Any other GET
    is a GraphQL request (`?query=...`), and one without a query is answered as such."""
    return method == "GET" and "query" not in query and "text/html" in headers.get("accept", "")


def graphiql_page(title: str) -> HTMLResponse:
    page = _PAGE.format(title=escape(title), assets=ASSETS_PATH, endpoint=ENDPOINT)
    return HTMLResponse(
        page, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"}
    )


def install_graphiql_assets(app: FastAPI) -> None:
    app.mount(ASSETS_PATH, StaticFiles(directory=str(ASSETS_DIRECTORY)), name="graphiql-assets")
