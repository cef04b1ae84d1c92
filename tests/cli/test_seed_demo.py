"""`pressroom seed-demo`: the demo accounts are `user1@…` to `userN@…` on any database, the
command says how to sign in, never seeds twice by accident, never runs in production mode, and
leaves the planner fresh statistics (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from pressroom.app import create_app
from pressroom.db import tables
from pressroom.db.engine import Database
from pressroom.db.migrate import migrate
from pressroom.demo import DEMO_PASSWORD
from tests.cli.running import Terminal, pressroom
from tests.conftest import make_settings, throwaway_postgres_database

SMALL = ("--users", "5", "--posts", "20", "--tags", "3")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own: these tests count every row in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/demo.db"
        migrate(url)
        yield url
    else:
        with throwaway_postgres_database() as url:
            yield url


def sign_in_status(database_url: str, email: str, password: str) -> int:
    async def attempt() -> int:
        app = create_app(make_settings(database_url))
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as http:
                reply = await http.post("/auth/login", json={"email": email, "password": password})
                return reply.status_code
        finally:
            await app.state.services.close()

    return asyncio.run(attempt())


def count(database_url: str, table: str) -> int:
    async def run() -> int:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                return int(
                    await conn.scalar(
                        select(func.count()).select_from(tables.metadata.tables[table])
                    )
                    or 0
                )
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_seed_prints_the_demo_sign_in_on_a_terminal(fresh_database: str, tmp_path: Path) -> None:
    terminal = Terminal("seed-demo", *SMALL, cwd=tmp_path, DATABASE_URL=fresh_database)
    terminal.expect("user1@demo.pressroom.test")
    terminal.expect("user5@demo.pressroom.test")
    terminal.expect(DEMO_PASSWORD)
    assert terminal.wait() == 0, terminal.output
    assert sign_in_status(fresh_database, "user1@demo.pressroom.test", DEMO_PASSWORD) == 200


def test_demo_accounts_start_at_1_whatever_accounts_exist(fresh_database: str) -> None:
    for n in range(3):
        made = pressroom(
            "users",
            "create",
            "--email",
            f"real{n}@example.com",
            "--password",
            "Xy-12345678",
            DATABASE_URL=fresh_database,
        )
        assert made.returncode == 0, made
    seeded = pressroom("seed-demo", *SMALL, DATABASE_URL=fresh_database)
    assert seeded.returncode == 0, seeded
    # Piped, the report is a JSON line: the accounts, not the password.
    assert '"first_email": "user1@demo.pressroom.test"' in seeded.stdout
    assert '"last_email": "user5@demo.pressroom.test"' in seeded.stdout
    assert DEMO_PASSWORD not in seeded.stdout + seeded.stderr
    assert sign_in_status(fresh_database, "user1@demo.pressroom.test", DEMO_PASSWORD) == 200


def test_a_second_seed_is_refused_unless_forced(fresh_database: str) -> None:
    assert pressroom("seed-demo", *SMALL, DATABASE_URL=fresh_database).returncode == 0
    posts = count(fresh_database, "posts")

    again = pressroom("seed-demo", *SMALL, DATABASE_URL=fresh_database)
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1
    assert "--force" in again.stderr
    assert count(fresh_database, "posts") == posts

    forced = pressroom("seed-demo", *SMALL, "--force", DATABASE_URL=fresh_database)
    assert forced.returncode == 0, forced
    assert '"first_email": "user6@demo.pressroom.test"' in forced.stdout
    assert count(fresh_database, "posts") == 2 * posts
    assert count(fresh_database, "tags") == 3  # the demo tags are reused, not made twice


def test_seed_is_refused_in_production_mode(fresh_database: str) -> None:
    result = pressroom(
        "seed-demo",
        *SMALL,
        DATABASE_URL=fresh_database,
        PRESSROOM_ENV="production",
        JWT_SECRET="a-production-secret-of-more-than-32-bytes",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "production" in result.stderr
    assert count(fresh_database, "users") == 0


def test_seed_leaves_fresh_planner_statistics(fresh_database: str) -> None:
    assert pressroom("seed-demo", *SMALL, DATABASE_URL=fresh_database).returncode == 0

    async def analysed_tables() -> set[str]:
        db = Database(fresh_database)
        try:
            async with db.read() as conn:
                if db.is_sqlite:
                    rows = await conn.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1"))
                else:
                    statistics = "SELECT DISTINCT tablename FROM pg_stats"
                    rows = await conn.execute(text(f"{statistics} WHERE schemaname = 'public'"))
                return {row[0] for row in rows}
        finally:
            await db.dispose()

    assert {"posts", "post_tags", "users", "tags"} <= asyncio.run(analysed_tables())
