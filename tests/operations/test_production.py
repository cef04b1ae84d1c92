"""Production mode refuses unsafe settings at start-up and turns off the docs (docs/api.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from pressroom.app import create_app
from tests.conftest import make_settings
from tests.operations.processes import PRESSROOM, free_port, server_env

GOOD_SECRET = "a-production-secret-that-is-long-enough-0123456789"


def serve_in_production(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = server_env(
        PRESSROOM_ENV="production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
        PORT=str(free_port()),
        **settings,
    )
    if "JWT_SECRET" not in settings:
        env.pop("JWT_SECRET", None)
        env.pop("JWT_SECRET_FILE", None)
    # A refused start exits at once; the timeout only guards against one that serves.
    return subprocess.run([PRESSROOM, "serve"], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({}, "JWT_SECRET is the development default"),
        ({"JWT_SECRET": "too-short"}, "JWT_SECRET is shorter than 32 bytes"),
        (
            {"JWT_SECRET": GOOD_SECRET, "JWT_PREVIOUS_SECRETS": "old"},
            "JWT_PREVIOUS_SECRETS[0] is shorter than 32 bytes",
        ),
        (
            {"JWT_SECRET": GOOD_SECRET, "RATE_LIMITS_ENABLED": "false"},
            "RATE_LIMITS_ENABLED=false is refused",
        ),
        ({"JWT_SECRET": GOOD_SECRET}, "SMTP_URL is not set"),
    ],
)
def test_production_serve_refuses_to_start_and_says_why(
    tmp_path: Path, settings: dict[str, str], reason: str
) -> None:
    result = serve_in_production(tmp_path, **settings)
    assert result.returncode != 0
    # Piped, a refusal is one JSON line on stderr.
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    refusals = [line for line in lines if line["event"] == "startup_refused"]
    assert len(refusals) == 1, result.stdout + result.stderr
    assert reason in refusals[0]["reason"]
    if "JWT_SECRET" in settings:
        assert settings["JWT_SECRET"] not in result.stdout + result.stderr


def production_app(database_url: str, **overrides: Any) -> Any:
    return create_app(
        make_settings(
            database_url,
            pressroom_env="production",
            jwt_secret=GOOD_SECRET,
            rate_limits_enabled=True,
            smtp_url="smtp://127.0.0.1:25",
            **overrides,
        )
    )


@pytest.mark.parametrize(("docs_enabled", "status"), [(None, 404), (True, 200)])
async def test_production_turns_docs_off_unless_enabled(
    database_url: str, docs_enabled: bool | None, status: int
) -> None:
    app = production_app(database_url, docs_enabled=docs_enabled)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/docs")).status_code == status
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await app.state.services.close()
