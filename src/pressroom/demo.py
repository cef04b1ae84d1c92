"""Demo data for trying Pressroom and for the benchmarks: users, posts and tags, in bulk.

Bulk loading is a repository of its own: plain multi-row inserts, no service rules to apply.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import typer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pressroom.config import Settings
from pressroom.db import tables
from pressroom.db.engine import Database
from pressroom.kit.clock import utcnow
from pressroom.kit.passwords import PasswordHasher

DEMO_PASSWORD = "DemoPassw0rd!"
DEMO_EMAIL_DOMAIN = "demo.pressroom.test"
TAGS_PER_POST = 3
BATCH_ROWS = 1000
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


async def seed(settings: Settings, *, users: int, posts: int, tags: int) -> None:
    db = Database(settings.database_url)
    rng = random.Random(42)  # noqa: S311 - demo data, not secrets
    # One hash for every demo account: hashing a thousand passwords would take half a minute.
    password_hash = await PasswordHasher().hash(DEMO_PASSWORD)
    try:
        async with db.write() as conn:
            first = int(await conn.scalar(select(func.count()).select_from(tables.users)) or 0)
            now = utcnow()
            user_ids = await _seed_users(conn, first, users, password_hash, now)
            tag_ids = await _seed_tags(conn, first, tags)
            await _seed_posts(conn, rng, user_ids, tag_ids, posts, now)
    finally:
        await db.dispose()


async def _seed_users(
    conn: AsyncConnection, first: int, count: int, password_hash: str, now: datetime
) -> list[int]:
    ids: list[int] = []
    with typer.progressbar(length=count, label="users") as bar:
        for offset in range(0, count, BATCH_ROWS):
            rows = [
                {
                    "email": f"user{first + i + 1}@{DEMO_EMAIL_DOMAIN}",
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


async def _seed_tags(conn: AsyncConnection, first: int, count: int) -> list[int]:
    rows = [
        {"name": f"Topic {first + i + 1}", "slug": f"topic-{first + i + 1}"} for i in range(count)
    ]
    result = await conn.execute(
        insert(tables.tags).returning(tables.tags.c.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


async def _seed_posts(
    conn: AsyncConnection,
    rng: random.Random,
    user_ids: list[int],
    tag_ids: list[int],
    count: int,
    now: datetime,
) -> None:
    with typer.progressbar(length=count, label="posts") as bar:
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
