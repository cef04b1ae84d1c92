"""The published list's total, kept by triggers instead of counted on every request.

`GET /posts` counted every published post of a live author for each page: about 2–4 ms of
PostgreSQL's CPU with 10,000 posts, the largest part of a list request's cost, and growing
with the table (docs/performance.md). A one-row table now holds that number, and triggers keep
it in step with every change that moves a post in or out of the list: a post created,
published, unpublished or deleted, and an author deleted (soft) or restored. Being triggers,
they also cover bulk loads and hand-written SQL.

On PostgreSQL the post triggers take a share lock on the author's row, so a post published
while its author is being deleted is counted in the order the two commit, never twice or not
at all. SQLite has one writer at a time. A TRUNCATE of posts sets the total to 0.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Counted while the author is not known to be deleted (a soft-deleted user's posts leave lists).
_LIVE_TOTAL = """
    SELECT count(*) FROM posts
    WHERE published = {true}
      AND NOT EXISTS (
        SELECT 1 FROM users WHERE users.id = posts.user_id AND users.deleted_at IS NOT NULL
      )
"""

_POSTGRESQL = [
    """
    CREATE FUNCTION published_post_total_on_posts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        change integer := 0;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.published THEN
            IF NOT EXISTS (
                SELECT 1 FROM users
                WHERE id = OLD.user_id AND deleted_at IS NOT NULL FOR SHARE
            ) THEN
                change := change - 1;
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.published THEN
            IF NOT EXISTS (
                SELECT 1 FROM users
                WHERE id = NEW.user_id AND deleted_at IS NOT NULL FOR SHARE
            ) THEN
                change := change + 1;
            END IF;
        END IF;
        IF change <> 0 THEN
            UPDATE published_post_total SET posts = posts + change;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER published_post_total_on_posts
    AFTER INSERT OR DELETE OR UPDATE OF published, user_id ON posts
    FOR EACH ROW EXECUTE FUNCTION published_post_total_on_posts()
    """,
    """
    CREATE FUNCTION published_post_total_on_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
            UPDATE published_post_total SET posts = posts
                + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
                * (SELECT count(*) FROM posts WHERE user_id = NEW.id AND published);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER published_post_total_on_users
    AFTER UPDATE OF deleted_at ON users
    FOR EACH ROW EXECUTE FUNCTION published_post_total_on_users()
    """,
    """
    CREATE FUNCTION published_post_total_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE published_post_total SET posts = 0;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER published_post_total_on_truncate
    AFTER TRUNCATE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION published_post_total_on_truncate()
    """,
]

_SQLITE = [
    """
    CREATE TRIGGER published_post_total_on_insert AFTER INSERT ON posts
    WHEN NEW.published AND NOT EXISTS (
        SELECT 1 FROM users WHERE id = NEW.user_id AND deleted_at IS NOT NULL
    )
    BEGIN UPDATE published_post_total SET posts = posts + 1; END
    """,
    """
    CREATE TRIGGER published_post_total_on_delete AFTER DELETE ON posts
    WHEN OLD.published AND NOT EXISTS (
        SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NOT NULL
    )
    BEGIN UPDATE published_post_total SET posts = posts - 1; END
    """,
    """
    CREATE TRIGGER published_post_total_on_update AFTER UPDATE OF published, user_id ON posts
    BEGIN
        UPDATE published_post_total SET posts = posts
            - (OLD.published AND NOT EXISTS (
                SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NOT NULL))
            + (NEW.published AND NOT EXISTS (
                SELECT 1 FROM users WHERE id = NEW.user_id AND deleted_at IS NOT NULL));
    END
    """,
    """
    CREATE TRIGGER published_post_total_on_users AFTER UPDATE OF deleted_at ON users
    WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
    BEGIN
        UPDATE published_post_total SET posts = posts
            + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
            * (SELECT count(*) FROM posts WHERE user_id = NEW.id AND published);
    END
    """,
]
_TRIGGERS = {
    "sqlite": [
        ("published_post_total_on_insert", "posts"),
        ("published_post_total_on_delete", "posts"),
        ("published_post_total_on_update", "posts"),
        ("published_post_total_on_users", "users"),
    ],
    "postgresql": [
        ("published_post_total_on_posts", "posts"),
        ("published_post_total_on_users", "users"),
        ("published_post_total_on_truncate", "posts"),
    ],
}


def upgrade() -> None:
    op.create_table(
        "published_post_total",
        sa.Column("id", sa.SmallInteger, sa.CheckConstraint("id = 1"), primary_key=True, default=1),
        sa.Column("posts", sa.BigInteger, nullable=False),
    )
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    true = "1" if is_sqlite else "true"
    op.execute(
        f"INSERT INTO published_post_total (id, posts) SELECT 1, ({_LIVE_TOTAL.format(true=true)})"
    )
    for statement in _SQLITE if is_sqlite else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for trigger, table in _TRIGGERS[dialect]:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER {trigger}")
        else:
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_table("published_post_total")
