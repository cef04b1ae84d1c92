"""Demo data for trying Pressroom and for the benchmarks: users, posts and tags, in bulk.

Bulk loading is a repository of its own: plain multi-row inserts, no service rules to apply.
Demo accounts are numbered from 1 on every database (`user1@demo.pressroom.test`, ...), whatever
accounts exist already; a second run adds the next numbers, and only when asked (`force`).
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

import typer
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.config import Settings
from pressroom.db import tables
from pressroom.db.engine import Database
from pressroom.db.statistics import refresh_statistics
from pressroom.db.units import unit_of_work
from pressroom.kit.clock import utcnow
from pressroom.kit.passwords import PasswordHasher

# Published here and in the README: demo accounts are for trying things, never for production.
DEMO_PASSWORD = "DemoPassw0rd!"
DEMO_EMAIL_DOMAIN = "demo.pressroom.test"
TAGS_PER_POST = 3
BATCH_ROWS = 1000
# The tables a seed writes; their planner statistics are refreshed after the load.
SEEDED_TABLES = ("users", "profiles", "user_settings", "user_roles", "tags", "posts", "post_tags")
_DEMO_NUMBER = re.compile(rf"^user(\d+)@{re.escape(DEMO_EMAIL_DOMAIN)}$")

_WORDS = [
    "press",
    "ink",
    "column",
    "headline",
    "draft",
    "story",
    "editor",
    "reader",
    "issue",
    "page",
    "print",
    "review",
    "interview",
    "feature",
    "byline",
    "deadline",
    "scoop",
    "source",
    "archive",
    "layout",
    "caption",
]


class AlreadySeeded(Exception):
    """Demo accounts exist already; seeding again needs `force`."""

    def __init__(self, last_number: int) -> None:
        super().__init__(f"demo data is already there (up to {demo_email(last_number)})")
        self.last_number = last_number


@dataclass(frozen=True, slots=True)
class Seeded:
    first_email: str
    last_email: str
    users: int
    posts: int
    tags: int


def demo_email(number: int) -> str:
    return f"user{number}@{DEMO_EMAIL_DOMAIN}"


async def seed(
    settings: Settings,
    *,
    users: int,
    posts: int,
    tags: int,
    force: bool = False,
    analyse: bool = True,
) -> Seeded:
    """Add `users` demo accounts numbered after the last demo account (from 1 on a database
    without any), `posts` posts spread over them, tagged from `tags` demo tags. Planner
    statistics are refreshed after the load; `analyse=False` leaves them as a bulk import
    without ANALYZE does (the plan tests and the benchmark measure that state)."""
    db = Database(settings.database_url)
    rng = random.Random(42)  # noqa: S311 - demo data, not secrets
    try:
        async with unit_of_work(db) as uow:
            # One hash for every demo account: hashing a thousand passwords would take half a
            # minute.
            async with uow.released() as no_connection:
                password_hash = await PasswordHasher().hash(no_connection, DEMO_PASSWORD)
            async with uow.write() as conn:
                last = await _last_demo_number(conn)
                if last and not force:
                    raise AlreadySeeded(last)
                now = utcnow()
                user_ids = await _seed_users(conn, last, users, password_hash, now)
                tag_ids = await _seed_tags(conn, tags)
                await _seed_posts(conn, rng, user_ids, tag_ids, posts, now)
            if analyse:
                # Fresh statistics now, not whenever autovacuum comes by (db/statistics.py).
                async with uow.write() as conn:
                    await refresh_statistics(conn, SEEDED_TABLES)
    finally:
        await db.dispose()
    return Seeded(demo_email(last + 1), demo_email(last + users), users, posts, tags)


async def _last_demo_number(conn: AsyncConnection) -> int:
    emails = await conn.scalars(
        select(tables.users.c.email).where(tables.users.c.email.like(f"user%@{DEMO_EMAIL_DOMAIN}"))
    )
    numbers = [int(m.group(1)) for e in emails if (m := _DEMO_NUMBER.match(e))]
    return max(numbers, default=0)


async def _seed_users(
    conn: AsyncConnection, last: int, count: int, password_hash: str, now: datetime
) -> list[int]:
    ids: list[int] = []
    # On stderr, so stdout carries only the report (JSON lines when piped).
    with typer.progressbar(length=count, label="users", file=sys.stderr) as bar:
        for offset in range(0, count, BATCH_ROWS):
            rows = [
                {
                    "email": demo_email(last + i + 1),
                    "email_verified": True,
                    "password_hash": password_hash,
                    "created_at": now - timedelta(minutes=count - i),
                    "updated_at": now,
                }
                for i in range(offset, min(offset + BATCH_ROWS, count))
            ]
            result = await conn.execute(
                insert(tables.users).returning(tables.users.c.id, sort_by_parameter_order=True),
                rows,
            )
            new_ids = [int(i) for i in result.scalars()]
            ids.extend(new_ids)
            await conn.execute(
                insert(tables.profiles),
                [
                    {
                        "user_id": uid,
                        "first_name": f"Demo{uid}",
                        "last_name": _WORDS[uid % len(_WORDS)].capitalize(),
                        "updated_at": now,
                    }
                    for uid in new_ids
                ],
            )
            await conn.execute(
                insert(tables.user_settings),
                [{"user_id": uid, "email_notifications": True} for uid in new_ids],
            )
            await conn.execute(
                insert(tables.user_roles), [{"user_id": uid, "role": "user"} for uid in new_ids]
            )
            bar.update(len(rows))
    return ids


async def _seed_tags(conn: AsyncConnection, count: int) -> list[int]:
    """Tags `Topic 1`..`Topic count`, the ones a previous seed made reused."""
    wanted = {f"topic-{n}": f"Topic {n}" for n in range(1, count + 1)}
    found = await conn.execute(
        select(tables.tags.c.slug, tables.tags.c.id).where(tables.tags.c.slug.in_(wanted))
    )
    ids = {slug: int(tag_id) for slug, tag_id in found}
    missing = [{"name": name, "slug": slug} for slug, name in wanted.items() if slug not in ids]
    if missing:
        result = await conn.execute(
            insert(tables.tags).returning(
                tables.tags.c.slug, tables.tags.c.id, sort_by_parameter_order=True
            ),
            missing,
        )
        ids.update({slug: int(tag_id) for slug, tag_id in result})
    return [ids[slug] for slug in wanted]


async def _seed_posts(
    conn: AsyncConnection,
    rng: random.Random,
    user_ids: list[int],
    tag_ids: list[int],
    count: int,
    now: datetime,
) -> None:
    with typer.progressbar(length=count, label="posts", file=sys.stderr) as bar:
        for offset in range(0, count, BATCH_ROWS):
            rows = []
            for i in range(offset, min(offset + BATCH_ROWS, count)):
                created = now - timedelta(minutes=(count - i) * 3)
                published = rng.random() < 0.9
                rows.append(
                    {
                        "user_id": rng.choice(user_ids),
                        "title": " ".join(rng.choices(_WORDS, k=5)).capitalize(),
                        "content": " ".join(rng.choices(_WORDS, k=120)),
                        "published": published,
                        "published_at": created + timedelta(minutes=1) if published else None,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            result = await conn.execute(
                insert(tables.posts).returning(tables.posts.c.id, sort_by_parameter_order=True),
                rows,
            )
            links = [
                {"post_id": post_id, "tag_id": tag_id}
                for post_id in result.scalars()
                for tag_id in rng.sample(tag_ids, min(TAGS_PER_POST, len(tag_ids)))
            ]
            await conn.execute(insert(tables.post_tags), links)
            bar.update(len(rows))
