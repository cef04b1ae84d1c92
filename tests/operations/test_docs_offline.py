"""`/docs` in headless Chromium with no network beyond loopback: assets come from a package."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.operations.browser import chromium, offline_flags
from tests.operations.processes import running_server


def test_docs_list_the_operations_without_internet(tmp_path: Path) -> None:
    browser = chromium()
    with running_server(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'docs.db'}") as server:
        result = subprocess.run(
            [
                browser,
                *offline_flags(tmp_path / "chromium"),
                "--virtual-time-budget=20000",
                "--dump-dom",
                f"{server.url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    dom = result.stdout
    assert "swagger-ui" in dom, result.stderr[-2000:]
    assert 'class="opblock' in dom, dom[-2000:]
    # The bearer security scheme gives Swagger UI its Authorize button, and each operation
    # that takes a token its lock.
    assert "btn authorize" in dom, dom[-2000:]
    assert "authorization__btn" in dom, dom[-2000:]
    for operation in ("/api/v1/users", "/api/v1/auth/login", "/api/v1/posts/{post_id}"):
        assert operation in dom, operation
