"""Migrations keep what they move: rows, links, ids and the totals derived from them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pressroom.db.migrate import migrate


def test_upgrading_sqlite_keeps_posts_tags_and_their_links(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    migrate(f"sqlite:///{path}", "0001")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO users (id, email, password_hash, created_at, updated_at)"
            " VALUES (1, 'a@example.com', 'x', '2024-01-01', '2024-01-01')"
        )
        db.execute(
            "INSERT INTO posts (id, user_id, title, content, published, created_at, updated_at)"
            " VALUES (7, 1, 'T', 'C', 1, '2024-01-01', '2024-01-01')"
        )
        db.execute("INSERT INTO tags (id, name, slug) VALUES (3, 'Go', 'go')")
        db.execute("INSERT INTO post_tags (post_id, tag_id) VALUES (7, 3)")
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id, title FROM posts").fetchall() == [(7, "T")]
        assert db.execute("SELECT id, name, slug FROM tags").fetchall() == [(3, "Go", "go")]
        assert db.execute("SELECT post_id, tag_id FROM post_tags").fetchall() == [(7, 3)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        assert {
            "ix_posts_user_id",
            "ix_posts_published_list",
            "ix_posts_created_at",
            "uq_tags_name_lower",
        } <= indexes
        # The published list's total starts from the rows already there, then follows them.
        assert db.execute("SELECT sum(posts) FROM published_post_total").fetchall() == [(1,)]
        db.execute("DELETE FROM post_tags")
        db.execute("DELETE FROM posts WHERE id = 7")
        assert db.execute("SELECT sum(posts) FROM published_post_total").fetchall() == [(0,)]
        db.execute(
            "INSERT INTO posts (user_id, title, content, published, created_at, updated_at)"
            " VALUES (1, 'N', 'C', 0, '2024-01-01', '2024-01-01')"
        )
        assert db.execute("SELECT id FROM posts").fetchall() == [(8,)]
