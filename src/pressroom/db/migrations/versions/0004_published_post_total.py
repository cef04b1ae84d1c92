"""The published list's total, kept by triggers instead of counted on every request.

`GET /posts` counted every published post of a live author for each page: about 2–4 ms of
PostgreSQL's CPU with 10,000 posts, the largest part of a list request's cost, and growing
with the table (docs/performance.md). A one-row table now holds that number, and triggers keep
it in step with every change that moves a post in or out of the list: a post created,
published, unpublished or deleted, and an author deleted (soft) or restored. Being triggers,
they also cover bulk loads and hand-written SQL.

The total is the sum of 16 slots, a post counted in slot `id % 16`: with one row, every
transaction that published a post waited for the one before it to commit (POST /posts fell
from 388 to 129 requests/s under 64 writers). On PostgreSQL the post triggers take a share lock
on the author's row, so a post published while its author is being deleted is counted in the
order the two commit, never twice or not at all. SQLite has one writer at a time. A TRUNCATE of
posts sets the total to 0.

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

SLOTS = 16
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
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.published THEN
            IF NOT EXISTS (
                SELECT 1 FROM users
                WHERE id = OLD.user_id AND deleted_at IS NOT NULL FOR SHARE
            ) THEN
                UPDATE published_post_total SET posts = posts - 1 WHERE slot = OLD.id % 16;
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.published THEN
            IF NOT EXISTS (
                SELECT 1 FROM users
                WHERE id = NEW.user_id AND deleted_at IS NOT NULL FOR SHARE
            ) THEN
                UPDATE published_post_total SET posts = posts + 1 WHERE slot = NEW.id % 16;
            END IF;
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
            UPDATE published_post_total AS total SET posts = total.posts
                + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) * mine.posts
            FROM (
                SELECT id % 16 AS slot, count(*) AS posts FROM posts
                WHERE user_id = NEW.id AND published GROUP BY id % 16
            ) AS mine
            WHERE total.slot = mine.slot;
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
    BEGIN UPDATE published_post_total SET posts = posts + 1 WHERE slot = NEW.id % 16; END
    """,
    """
    CREATE TRIGGER published_post_total_on_delete AFTER DELETE ON posts
    WHEN OLD.published AND NOT EXISTS (
        SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NOT NULL
    )
    BEGIN UPDATE published_post_total SET posts = posts - 1 WHERE slot = OLD.id % 16; END
    """,
    """
    CREATE TRIGGER published_post_total_on_update AFTER UPDATE OF published, user_id ON posts
    BEGIN
        UPDATE published_post_total SET posts = posts
            - (OLD.published AND NOT EXISTS (
                SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NOT NULL))
            + (NEW.published AND NOT EXISTS (
                SELECT 1 FROM users WHERE id = NEW.user_id AND deleted_at IS NOT NULL))
        WHERE slot = NEW.id % 16;
    END
    """,
    """
    CREATE TRIGGER published_post_total_on_users AFTER UPDATE OF deleted_at ON users
    WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
    BEGIN
        UPDATE published_post_total SET posts = posts
            + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) * (
                SELECT count(*) FROM posts
                WHERE user_id = NEW.id AND published AND id % 16 = published_post_total.slot
            );
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
        sa.Column("slot", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("posts", sa.BigInteger, nullable=False),
        sa.CheckConstraint(f"slot >= 0 AND slot < {SLOTS}", name="ck_published_post_total_slot"),
    )
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    total = _LIVE_TOTAL.format(true="1" if is_sqlite else "true")
    op.execute(f"INSERT INTO published_post_total (slot, posts) SELECT 0, ({total})")
    op.bulk_insert(
        sa.table("published_post_total", sa.column("slot"), sa.column("posts")),
        [{"slot": slot, "posts": 0} for slot in range(1, SLOTS)],
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
