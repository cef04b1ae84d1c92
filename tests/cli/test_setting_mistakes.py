"""A mistake in `DATABASE_URL` or `REDIS_URL` stops any command with one line that names the
setting and what is wrong, exit code 2, and no traceback (docs/api.md); `--debug` shows one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.running import pressroom
from tests.operations.processes import free_port

COMMANDS = {
    "serve": ("serve", "--port", "1"),
    "migrate": ("migrate",),
    "users create": ("users", "create", "--email", "ann@example.com", "--password", "Xy-12345678"),
    "seed-demo": ("seed-demo", "--users", "1", "--posts", "1", "--tags", "1"),
}
# Commands that talk to Redis check it; `migrate` and `seed-demo` never use it.
USES_REDIS = {"serve", "users create"}


def mistakes(sqlite_url: str) -> dict[str, tuple[dict[str, str], str, list[str]]]:
    """name → (settings, the setting the line must name, other words it must hold)."""
    closed = free_port()
    return {
        "malformed database URL": ({"DATABASE_URL": "garbage"}, "DATABASE_URL", ["postgresql://"]),
        "unsupported scheme": (
            {"DATABASE_URL": "mysql://ann:s3cret@127.0.0.1/db"},
            "DATABASE_URL",
            ["mysql", "supported: sqlite, postgresql"],
        ),
        "database unreachable": (
            {"DATABASE_URL": f"postgresql://ann:s3cret@127.0.0.1:{closed}/db"},
            "DATABASE_URL",
            [f"127.0.0.1:{closed}"],
        ),
        "SQLite file cannot be opened": (
            {"DATABASE_URL": "sqlite:////nonexistent-folder/pressroom.db"},
            "DATABASE_URL",
            ["/nonexistent-folder/pressroom.db"],
        ),
        "malformed Redis URL": (
            {"DATABASE_URL": sqlite_url, "REDIS_URL": "garbage"},
            "REDIS_URL",
            ["redis://"],
        ),
        "Redis unreachable": (
            {"DATABASE_URL": sqlite_url, "REDIS_URL": f"redis://:s3cret@127.0.0.1:{closed}/0"},
            "REDIS_URL",
            [f"127.0.0.1:{closed}"],
        ),
    }


CASES = [
    (mistake, command)
    for mistake in mistakes("sqlite:///x.db")
    for command in COMMANDS
    if mistake != "Redis unreachable" or command in USES_REDIS
]


@pytest.mark.parametrize(("mistake", "command"), CASES)
def test_a_setting_mistake_is_one_line_naming_the_setting(
    mistake: str, command: str, tmp_path: Path
) -> None:
    settings, setting, words = mistakes(f"sqlite:///{tmp_path}/pressroom.db")[mistake]
    result = pressroom(*COMMANDS[command], **settings)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert setting in lines[0]
    for word in words:
        assert word in lines[0]
    # A URL's password is never repeated back.
    assert "s3cret" not in lines[0]


def test_debug_shows_the_traceback_behind_the_line() -> None:
    result = pressroom(
        "--debug", "migrate", DATABASE_URL=f"postgresql://ann@127.0.0.1:{free_port()}/db"
    )
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "ConnectionRefusedError" in result.stderr
    assert "DATABASE_URL" in result.stderr.strip().splitlines()[-1]
