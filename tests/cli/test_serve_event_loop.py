"""`pressroom serve` runs on asyncio's own event loop, not uvloop, although uvicorn would pick
uvloop (installed with uvicorn[standard]) by itself.

Why (docs/performance.md, scenario (i)): a saturated uvloop worker accepted a burst of new
connections over seconds, so a new client's first request waited unread past wrk's 2 s timeout
while requests on open connections were served; asyncio's loop accepted them at once. That is
a matter of load and time, so this test checks the choice itself: what `serve` hands uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pressroom import cli


def test_serve_asks_uvicorn_for_asyncios_own_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("PRESSROOM_ENV", "development")
    # The signal handlers `serve` installs belong to a server process, not to pytest's.
    monkeypatch.setattr(cli, "_exit_cleanly_after_graceful_shutdown", lambda: None)
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))

    cli.serve(host="127.0.0.1", port=1, workers=1)

    assert served["loop"] == "asyncio"
    # A worker still importing the app on a loaded host must not be killed as hung.
    assert served["timeout_worker_healthcheck"] >= 30
    assert served["factory"] is True  # the call captured is the real one, not a stray
