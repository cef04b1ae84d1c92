"""GraphiQL at GET /graphql in headless Chromium with no network beyond loopback: the IDE
renders from the assets Pressroom ships, loads the schema, and runs queries, anonymous and
with a bearer token typed under Headers, as a developer would."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from pressroom.db.migrate import migrate
from tests.conftest import PASSWORD
from tests.operations.browser import Page, open_page
from tests.operations.processes import running_server

EDITORS = "Array.from(document.querySelectorAll('.graphiql-editor .CodeMirror'))"
QUERY_EDITOR = f"{EDITORS}[0]?.CodeMirror"
RESULT = (
    "(() => { const e = document.querySelector('.result-window .CodeMirror');"
    " return e ? e.CodeMirror.getValue() : ''; })()"
)


def run_query(page: Page, expect: str) -> dict[str, object]:
    """Press the run button; the result pane's JSON once it shows `expect`."""
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    text = page.wait_for(f"(() => {{ const r = {RESULT}; return r.includes({expect!r}) && r; }})()")
    result: dict[str, object] = json.loads(text)
    return result


def test_graphiql_renders_offline_and_runs_queries(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'graphiql.db'}"
    migrate(database_url)
    with running_server(tmp_path, DATABASE_URL=database_url) as server:
        profile = {"firstName": "Ann", "lastName": "Example"}
        account = {"email": "ann@example.com", "password": PASSWORD}
        httpx.post(f"{server.api}/users", json={**account, "profile": profile})
        token = httpx.post(f"{server.api}/auth/login", json=account).json()["accessToken"]
        created = httpx.post(
            f"{server.api}/posts",
            json={"title": "Seen in GraphiQL", "content": "x", "published": True, "tags": ["IDE"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        (tmp_path / "chromium").mkdir()
        with open_page(tmp_path / "chromium", f"{server.url}/graphql") as page:
            page.wait_for(f"{QUERY_EDITOR}?.operationName === 'LatestPosts'")
            # The schema arrived by introspection: the documentation explorer can open it.
            page.evaluate(
                "document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click()"
            )
            page.wait_for("document.querySelector('.graphiql-doc-explorer')?.innerText")
            page.wait_for(
                "document.querySelector('.graphiql-doc-explorer').innerText.includes('Query')"
            )

            latest = run_query(page, "totalCount")
            posts = latest["data"]["posts"]  # type: ignore[index]
            assert posts["totalCount"] == 1
            assert posts["edges"][0]["node"]["title"] == "Seen in GraphiQL"
            assert posts["edges"][0]["node"]["tags"] == [{"name": "IDE", "slug": "ide"}]

            # Signed in through the Headers pane.
            page.evaluate(
                "Array.from(document.querySelectorAll('button'))"
                ".find(b => b.textContent.trim() === 'Headers').click()"
            )
            headers = json.dumps({"Authorization": f"Bearer {token}"})
            page.wait_for(
                "!!document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden)"
                " .CodeMirror')"
            )
            page.evaluate(
                "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden)"
                f" .CodeMirror').CodeMirror.setValue({headers!r})"
            )
            page.evaluate(f"{QUERY_EDITOR}.setValue('query Me {{ currentUser {{ email }} }}')")
            # Run once the IDE has parsed the new document (it names the operation to send).
            page.wait_for(f"{QUERY_EDITOR}.operationName === 'Me'")
            me = run_query(page, "currentUser")
            assert me == {"data": {"currentUser": {"email": "ann@example.com"}}}

            requested = [u for u in page.requested_urls() if not u.startswith("data:")]
            assert requested
            assert [u for u in requested if not u.startswith(server.url)] == []
            assert page.failures() == []
