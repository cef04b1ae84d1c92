"""SQLite: a deleted post's or tag's id is never given to a new one.

Without AUTOINCREMENT, SQLite gives a new row max(id) + 1, so deleting the newest post let the
next post take its id, and every link, cache and log line that named it. PostgreSQL identities
never go back. SQLite cannot add AUTOINCREMENT in place; the tables are rebuilt the way its
manual describes (create, copy, drop, rename, re-index), with foreign keys off as migrations run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pressroom.db.types import Id, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POST_COLUMNS = "id, user_id, title, content, published, published_at, created_at, updated_at"
TAG_COLUMNS = "id, name, slug"


def _rebuild(name: str, columns: str, *definition: sa.Column[object] | sa.Constraint) -> None:
    op.create_table(f"_{name}_rebuilt", *definition, sqlite_autoincrement=True)
    op.execute(f"INSERT INTO _{name}_rebuilt ({columns}) SELECT {columns} FROM {name}")  # noqa: S608
    op.drop_table(name)
    op.rename_table(f"_{name}_rebuilt", name)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(
        "posts",
        POST_COLUMNS,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_posts_user_id_users"
        ),
    )
    op.create_index("ix_posts_user_id", "posts", ["user_id"])
    # As 0002 left it on SQLite.
    op.create_index(
        "ix_posts_published_list",
        "posts",
        ["published", sa.text("published_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_posts_created_at", "posts", [sa.text("created_at DESC")])
    _rebuild(
        "tags",
        TAG_COLUMNS,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("slug", sa.String(50), nullable=False),
        sa.UniqueConstraint("slug", name="uq_tags_slug"),
    )
    op.create_index("uq_tags_name_lower", "tags", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    """AUTOINCREMENT only stops reuse; nothing depends on it being there."""
