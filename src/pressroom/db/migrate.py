"""Run the Alembic migrations that ship inside the package, from any working directory, and
tell how far a database's schema is from the revision this release expects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.db.urls import async_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates `%`, which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the database up to `revision`. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(database_url), revision)


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The revision this release's code expects."""
    head = _scripts().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None  # None: never migrated
    expected: str

    @property
    def is_current(self) -> bool:
        return self.current == self.expected

    @property
    def is_known(self) -> bool:
        """False when a newer release migrated the database past what this one knows."""
        return self.current is None or known_revision(self.current)

    def describe(self) -> str:
        if self.current is None:
            return f"the database has no schema yet (this release expects revision {self.expected})"
        if not self.is_known:
            return (
                f"the schema is at revision {self.current}, which this release does not know"
                f" (it expects {self.expected}): a newer release migrated this database"
            )
        return f"the schema is at revision {self.current}; this release expects {self.expected}"


async def schema_state(conn: AsyncConnection) -> SchemaState:
    """Where the database's schema stands; looks before reading, so no statement fails."""
    if conn.dialect.name == "sqlite":
        exists = await conn.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": VERSION_TABLE},
        )
    else:
        exists = await conn.scalar(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": VERSION_TABLE}
        )
    current = await conn.scalar(text("SELECT version_num FROM alembic_version")) if exists else None
    return SchemaState(current=current, expected=head_revision())
