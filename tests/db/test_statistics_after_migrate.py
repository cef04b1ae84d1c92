"""`pressroom migrate` leaves the planner fresh statistics whenever it applied a revision, on
SQLite and PostgreSQL: rows loaded in bulk and never analysed are counted once it has run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from pressroom.db.engine import Database
from pressroom.db.migrate import migrate
from pressroom.demo import seed
from tests.conftest import make_settings, throwaway_postgres_database

USERS, POSTS = 40, 300
# Any revision before the head: migrating from it applies at least one.
EARLIER_REVISION = "0008"


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/pressroom.db"
    else:
        with throwaway_postgres_database(migrated=False) as url:
            yield url


async def _rows_the_planner_counts(url: str, table: str) -> int | None:
    """The table's row count as the last ANALYZE recorded it (None: never analysed with rows)."""
    db = Database(url)
    try:
        async with db.read() as conn:
            if conn.dialect.name == "sqlite":
                analysed = await conn.scalar(
                    text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
                )
                if not analysed:
                    return None
                stat = await conn.scalar(
                    text("SELECT stat FROM sqlite_stat1 WHERE tbl = :table AND stat IS NOT NULL"),
                    {"table": table},
                )
                return None if stat is None else int(str(stat).split()[0])
            tuples = await conn.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                {"table": table},
            )
            return None if tuples is None or tuples < 0 else int(tuples)
    finally:
        await db.dispose()


def test_migrate_analyses_the_rows_loaded_before_it(unmigrated_database: str) -> None:
    url = unmigrated_database
    migrate(url, EARLIER_REVISION)
    asyncio.run(seed(make_settings(url), users=USERS, posts=POSTS, tags=5, analyse=False))
    assert asyncio.run(_rows_the_planner_counts(url, "posts")) in (None, 0)

    migrate(url)

    assert asyncio.run(_rows_the_planner_counts(url, "posts")) == POSTS
    assert asyncio.run(_rows_the_planner_counts(url, "users")) == USERS
