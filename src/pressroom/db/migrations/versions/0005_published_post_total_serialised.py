"""The published list's kept total, made exact under concurrent writes on PostgreSQL.

0004's triggers drifted when a post changed while its author was being deleted: the post trigger
locked the author's row only when the author was already deleted, so the two transactions never
waited for each other, and the users trigger then applied a count of the author's posts taken
before the post change committed (unpublish + delete: the post left the total twice).

The rule now, on PostgreSQL (READ COMMITTED, the application's level):

- A post trigger whose change can move the post in or out of the list (published, author or id
  changed; a published post created or deleted) takes FOR SHARE on each author row the post
  leaves or joins, whatever that author's state, and decides from the row it locked. FOR SHARE
  conflicts with the FOR NO KEY UPDATE that `UPDATE users SET deleted_at` takes, so the post
  change and the author's deletion or restoration are serialised by that row.
- The users trigger counts the author's published posts in a statement of its own, after its
  UPDATE holds the row. In READ COMMITTED each statement of a PL/pgSQL function takes a fresh
  snapshot, so the count sees every post change that held the author row before it (they have
  committed: the UPDATE waited for them), and none that comes after (they wait for this
  transaction). Either order therefore adds or subtracts each post exactly once.
- Slots are changed in slot order by the users trigger, so two author changes cannot deadlock
  on them; an unchanged post (same published, author and id) takes no lock at all.
- A hard-deleted user (nothing in the application does it, but SQL may) is handled before the
  cascade removes the posts: a live author's published posts leave the total there, and the
  cascaded post deletions, whose author row is already gone, change nothing.

SQLite has one writer at a time; its triggers only gain the id change and the hard delete.
The upgrade recounts every slot from the rows, repairing what 0004 let drift.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The kept slots set from the rows, with writers held off meanwhile (EXCLUSIVE lets readers in
# and makes every trigger that changes a slot wait), so no change lands between count and set.
RECOUNT = """
    UPDATE published_post_total SET posts = (
        SELECT count(*) FROM posts JOIN users ON users.id = posts.user_id
        WHERE posts.published = {true} AND users.deleted_at IS NULL
          AND posts.id % 16 = published_post_total.slot
    )
"""

_POSTGRESQL = [
    """
    CREATE FUNCTION published_post_total_author_listed(author bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
    DECLARE
        live boolean;
    BEGIN
        -- FOR SHARE whatever the author's state: it waits for, and then is waited for by, a
        -- deletion or restoration of this author (a missing row: being hard-deleted here).
        SELECT deleted_at IS NULL INTO live FROM users WHERE id = author FOR SHARE;
        RETURN coalesce(live, false);
    END $$
    """,
    """
    CREATE FUNCTION published_post_total_on_posts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        was_listed boolean := false;
        is_listed boolean := false;
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.published = NEW.published
            AND OLD.user_id = NEW.user_id AND OLD.id = NEW.id THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.published THEN
            was_listed := published_post_total_author_listed(OLD.user_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.published THEN
            is_listed := published_post_total_author_listed(NEW.user_id);
        END IF;
        IF was_listed AND is_listed AND OLD.id % 16 = NEW.id % 16 THEN
            RETURN NULL;
        END IF;
        IF was_listed THEN
            UPDATE published_post_total SET posts = posts - 1 WHERE slot = OLD.id % 16;
        END IF;
        IF is_listed THEN
            UPDATE published_post_total SET posts = posts + 1 WHERE slot = NEW.id % 16;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER published_post_total_on_posts
    AFTER INSERT OR DELETE OR UPDATE OF published, user_id, id ON posts
    FOR EACH ROW EXECUTE FUNCTION published_post_total_on_posts()
    """,
    """
    CREATE FUNCTION published_post_total_on_users() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        direction integer;
        mine record;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            direction := CASE WHEN OLD.deleted_at IS NULL THEN -1 ELSE 0 END;
        ELSIF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
            direction := CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END;
        ELSE
            direction := 0;
        END IF;
        IF direction <> 0 THEN
            -- A statement of its own, so a snapshot taken now that this row is held.
            FOR mine IN
                SELECT id % 16 AS slot, count(*) AS posts FROM posts
                WHERE user_id = OLD.id AND published GROUP BY id % 16 ORDER BY id % 16
            LOOP
                UPDATE published_post_total SET posts = posts + direction * mine.posts
                WHERE slot = mine.slot;
            END LOOP;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
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
    CREATE TRIGGER published_post_total_on_user_delete
    BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION published_post_total_on_users()
    """,
]
_POSTGRESQL_DROPPED = [
    "DROP TRIGGER published_post_total_on_posts ON posts",
    "DROP TRIGGER published_post_total_on_users ON users",
    "DROP FUNCTION published_post_total_on_posts()",
    "DROP FUNCTION published_post_total_on_users()",
]
_POSTGRESQL_ADDED = [
    "DROP TRIGGER published_post_total_on_user_delete ON users",
    "DROP FUNCTION published_post_total_author_listed(bigint)",
]

# SQLite's cascade runs after the user row is gone, so a post counts as listed only while a
# live author row is there, as on PostgreSQL; a live author's hard delete is counted before it.
_SQLITE = [
    """
    CREATE TRIGGER published_post_total_on_update AFTER UPDATE OF published, user_id, id ON posts
    BEGIN
        UPDATE published_post_total SET posts = posts - (OLD.published AND EXISTS (
            SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NULL))
        WHERE slot = OLD.id % 16;
        UPDATE published_post_total SET posts = posts + (NEW.published AND EXISTS (
            SELECT 1 FROM users WHERE id = NEW.user_id AND deleted_at IS NULL))
        WHERE slot = NEW.id % 16;
    END
    """,
    """
    CREATE TRIGGER published_post_total_on_delete AFTER DELETE ON posts
    WHEN OLD.published AND EXISTS (
        SELECT 1 FROM users WHERE id = OLD.user_id AND deleted_at IS NULL
    )
    BEGIN UPDATE published_post_total SET posts = posts - 1 WHERE slot = OLD.id % 16; END
    """,
    """
    CREATE TRIGGER published_post_total_on_user_delete BEFORE DELETE ON users
    WHEN OLD.deleted_at IS NULL
    BEGIN
        UPDATE published_post_total SET posts = posts - (
            SELECT count(*) FROM posts
            WHERE user_id = OLD.id AND published AND id % 16 = published_post_total.slot
        );
    END
    """,
]
_SQLITE_REPLACED = ("published_post_total_on_update", "published_post_total_on_delete")


def _revision_0004() -> ModuleType:
    """0004's statements, which the downgrade puts back."""
    path = Path(__file__).with_name("0004_published_post_total.py")
    spec = importlib.util.spec_from_file_location("pressroom_migration_0004", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        for trigger in _SQLITE_REPLACED:
            op.execute(f"DROP TRIGGER {trigger}")
        for statement in _SQLITE:
            op.execute(statement)
    else:
        op.execute("LOCK TABLE published_post_total IN EXCLUSIVE MODE")
        for statement in _POSTGRESQL_DROPPED + _POSTGRESQL:
            op.execute(statement)
    op.execute(RECOUNT.format(true="1" if is_sqlite else "true"))


def downgrade() -> None:
    previous = _revision_0004()
    if op.get_bind().dialect.name == "sqlite":
        for trigger in (*_SQLITE_REPLACED, "published_post_total_on_user_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        for statement in previous._SQLITE:
            if any(f"{trigger} " in statement for trigger in _SQLITE_REPLACED):
                op.execute(statement)
    else:
        for statement in _POSTGRESQL_ADDED + _POSTGRESQL_DROPPED:
            op.execute(statement)
        for statement in previous._POSTGRESQL:
            if "_on_truncate" not in statement:
                op.execute(statement)
