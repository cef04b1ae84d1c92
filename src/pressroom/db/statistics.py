"""Planner statistics refreshed after bulk changes, not left to autovacuum's schedule.

A table loaded or rewritten in bulk keeps the statistics it had before (none, or an empty
table's) until autovacuum analyses it, and some installations run with autovacuum off. On a
just-seeded PostgreSQL database the post list served 168 requests/s before ANALYZE and 1,059
after (docs/performance.md). So `seed-demo` analyses what it loaded, and `pressroom migrate`
analyses the application's tables whenever it applied a revision.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

# SQLite reads every row of every index for ANALYZE; after a migration a sample of this many
# rows an index is enough (what `PRAGMA optimize` uses) and keeps a large file's migration short.
SQLITE_MIGRATION_ANALYSIS_LIMIT = 1000


def analyse_statements(dialect: str, tables: Iterable[str]) -> list[str]:
    """The statements that refresh the statistics of `tables` (quoted, so any name works)."""
    quoted = [f'"{name}"' for name in tables]
    if not quoted:
        return []
    if dialect == "postgresql":
        return [f"ANALYZE {', '.join(quoted)}"]
    return [f"ANALYZE {name}" for name in quoted]


async def refresh_statistics(conn: AsyncConnection, tables: Iterable[str]) -> None:
    for statement in analyse_statements(conn.dialect.name, tables):
        await conn.execute(text(statement))


def analyse_after_migration(conn: Connection) -> None:
    """Fresh statistics for every table of the schema, within the migration's transaction:
    a migration that moved rows leaves none stale, whichever tables it touched."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_MIGRATION_ANALYSIS_LIMIT}")
    for statement in analyse_statements(dialect, inspect(conn).get_table_names()):
        conn.exec_driver_sql(statement)
