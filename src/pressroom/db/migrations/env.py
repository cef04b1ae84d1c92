"""Alembic environment: runs migrations through the same async drivers as the service."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from pressroom.db.statistics import analyse_after_migration
from pressroom.db.tables import metadata


def _run(connection: Connection) -> None:
    applied: list[str] = []
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        on_version_apply=lambda *, step, **_: applied.append(step.up_revision_id),
    )
    with context.begin_transaction():
        context.run_migrations()
        # A migration that rebuilt, backfilled or rewrote a table leaves its statistics stale
        # (SQLite's rebuilt tables have none): the planner must not wait for autovacuum.
        if applied:
            analyse_after_migration(connection)


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


asyncio.run(_run_online())
