"""`/docs` in headless Chromium with no network beyond loopback: assets come from a package."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import service_missing
from tests.operations.processes import running_server

CHROMIUM = "/usr/bin/chromium"


def test_docs_list_the_operations_without_internet(tmp_path: Path) -> None:
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if browser is None:
        service_missing("Chromium (Debian's chromium package)", FileNotFoundError(CHROMIUM))
    with running_server(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'docs.db'}") as server:
        result = subprocess.run(
            [
                str(browser),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium'}",
                # Only loopback resolves: a CDN reference would fail to load, and the page with it.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
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
    for operation in ("/api/v1/users", "/api/v1/auth/login", "/api/v1/posts/{post_id}"):
        assert operation in dom, operation
