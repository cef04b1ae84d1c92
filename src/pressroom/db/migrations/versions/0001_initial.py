"""The seed's schema plus roles, user settings and refresh-token sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pressroom.db.types import Id, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = [
    ("user", "Reads and writes their own posts"),
    ("moderator", "Also deletes anyone's posts and manages tags"),
    ("admin", "Holds every permission, including managing users"),
]


def _live(column: str) -> sa.TextClause:
    return sa.text(f"{column} IS NULL")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
    )
    op.create_index(
        "uq_users_email_live",
        "users",
        [sa.text("lower(email)")],
        unique=True,
        postgresql_where=_live("deleted_at"),
        sqlite_where=_live("deleted_at"),
    )
    op.create_index("ix_users_created_at", "users", [sa.text("created_at DESC")])

    op.create_table(
        "profiles",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            Id,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("avatar_url", sa.Text, nullable=True),
        sa.Column("bio", sa.Text, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_profiles_last_name", "profiles", ["last_name"])

    op.create_table(
        "user_settings",
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("email_notifications", sa.Boolean, nullable=False, server_default=sa.true()),
    )

    roles = op.create_table(
        "roles",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("description", sa.String(255), nullable=False),
    )
    op.bulk_insert(roles, [{"name": n, "description": d} for n, d in ROLES])
    op.create_table(
        "user_roles",
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(32), sa.ForeignKey("roles.name"), primary_key=True),
    )

    op.create_table(
        "posts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_posts_user_id", "posts", ["user_id"])
    op.create_index("ix_posts_published", "posts", ["published", sa.text("published_at DESC")])
    op.create_index("ix_posts_created_at", "posts", [sa.text("created_at DESC")])

    op.create_table(
        "tags",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("slug", sa.String(50), nullable=False, unique=True),
    )
    op.create_index("uq_tags_name_lower", "tags", [sa.text("lower(name)")], unique=True)

    op.create_table(
        "post_tags",
        sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag_id", Id, sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_post_tags_tag_id", "post_tags", ["tag_id"])

    op.create_table(
        "sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_used_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "session_id", Id, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "parent_id", Id, sa.ForeignKey("refresh_tokens.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("rotated_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.create_index("ix_refresh_tokens_parent_id", "refresh_tokens", ["parent_id"])


def downgrade() -> None:
    for table in (
        "refresh_tokens",
        "sessions",
        "post_tags",
        "tags",
        "posts",
        "user_roles",
        "roles",
        "user_settings",
        "profiles",
        "users",
    ):
        op.drop_table(table)
