"""Migrations keep what they move: rows, links, ids and the totals derived from them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import asyncpg
from alembic import command

from pressroom.db.migrate import alembic_config, migrate
from tests.conftest import throwaway_postgres_database


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


def _published_total_round_trip(url: str, run: Callable[[str], list[tuple[int, ...]]]) -> None:
    """At 0004, a drifted total (as 0004's race left it); 0005 recounts it, and down to 0004
    and up again leaves triggers that still follow the rows."""
    migrate(url, "0004")
    run(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at)"
        " VALUES (1, 'a@example.com', 'x', '2024-01-01', '2024-01-01')"
    )
    for post_id in (1, 2, 3):
        run(
            "INSERT INTO posts (id, user_id, title, content, published, created_at, updated_at)"
            f" VALUES ({post_id}, 1, 'T', 'C', {'true' if post_id < 3 else 'false'},"
            " '2024-01-01', '2024-01-01')"
        )
    run("UPDATE published_post_total SET posts = posts - 5 WHERE slot = 1")
    migrate(url, "0005")
    assert run("SELECT slot, posts FROM published_post_total WHERE posts <> 0 ORDER BY slot") == [
        (1, 1),
        (2, 1),
    ]
    command.downgrade(alembic_config(url), "0004")
    run("UPDATE posts SET published = true WHERE id = 3")
    assert run("SELECT sum(posts) FROM published_post_total") == [(3,)]
    migrate(url)
    run("UPDATE users SET deleted_at = '2024-02-01' WHERE id = 1")
    assert run("SELECT sum(posts) FROM published_post_total") == [(0,)]
    command.downgrade(alembic_config(url), "0003")
    migrate(url)
    assert run("SELECT count(*) FROM published_post_total") == [(16,)]


def test_sqlite_published_total_is_recounted_and_downgrades(tmp_path: Path) -> None:
    path = tmp_path / "total.db"

    def run(sql: str) -> list[tuple[int, ...]]:
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchall()

    _published_total_round_trip(f"sqlite:///{path}", run)


def test_postgresql_published_total_is_recounted_and_downgrades() -> None:
    with throwaway_postgres_database("0003") as url:

        def run(sql: str) -> list[tuple[int, ...]]:
            async def go() -> list[tuple[int, ...]]:
                conn = await asyncpg.connect(url)
                try:
                    return [tuple(row) for row in await conn.fetch(sql)]
                finally:
                    await conn.close()

            return asyncio.run(go())

        _published_total_round_trip(url, run)
