"""What `pressroom serve` asks of uvicorn's worker supervisor.

Importing the app costs about 5 s of CPU; on a loaded 2-core host that is longer than uvicorn's
default 5 s worker health check, and `serve --workers 2` killed its own workers while they were
still starting (the two-worker metrics tests and bench runs failed to start). Whether a start
is slow is a matter of load, so this checks what `serve` hands uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pressroom import cli


def test_serve_gives_starting_workers_time_to_answer_the_health_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("PRESSROOM_ENV", "development")
    # With several workers and no directory of its own, serve would make one and set it in this
    # process's environment, where every server the later tests start would inherit it.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    # The signal handlers `serve` installs belong to a server process, not to pytest's.
    monkeypatch.setattr(cli, "_exit_cleanly_after_graceful_shutdown", lambda: None)
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))

    cli.serve(host="127.0.0.1", port=1, workers=2)

    assert served["factory"] is True  # the call captured is the real one, not a stray
    assert served["workers"] == 2
    assert served["timeout_worker_healthcheck"] >= 30
