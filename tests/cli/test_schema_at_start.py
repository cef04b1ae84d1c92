"""`serve` and a schema that is behind: SQLite, the embedded default, migrates itself; a
PostgreSQL database is migrated on purpose (`pressroom migrate`), so `serve` refuses it."""

from __future__ import annotations

from pathlib import Path

import httpx

from pressroom.db.migrate import head_revision
from tests.cli.running import pressroom
from tests.conftest import throwaway_postgres_database
from tests.operations.processes import running_server


def test_serve_refuses_a_postgresql_database_never_migrated() -> None:
    with throwaway_postgres_database(migrated=False) as url:
        result = pressroom("serve", "--port", "1", DATABASE_URL=url)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pressroom migrate" in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_migrates_a_new_sqlite_database_then_is_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    with running_server(tmp_path, DATABASE_URL=url) as server:
        reply = httpx.get(f"{server.url}/readyz")
        assert reply.status_code == 200, reply.text
        assert reply.json()["schema"] == {"current": head_revision(), "expected": head_revision()}
        assert httpx.get(f"{server.api}/posts").status_code == 200
        assert '"database_migrated"' in server.logs()


def test_migrate_says_where_the_schema_went(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    first = pressroom("migrate", DATABASE_URL=url)
    assert first.returncode == 0, first
    assert f'"revision": "{head_revision()}"' in first.stdout
    again = pressroom("--json", "migrate", DATABASE_URL=url)
    assert again.returncode == 0, again
    assert '"previous"' not in again.stdout  # nothing ran the second time
