"""A service's write is one transaction that commits once, on both databases, although
PostgreSQL connections otherwise sit in autocommit mode for reads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from pressroom.db.tables import tags
from pressroom.services import Services


class Boom(Exception):
    pass


async def _write_a_tag_then_fail(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(insert(tags).values(name="Half", slug="half"))
        raise Boom


async def _tags_with_slug(services: Services, slug: str) -> int | None:
    async with services.db.read() as conn:
        return await conn.scalar(select(func.count()).where(tags.c.slug == slug))


async def test_a_write_that_fails_midway_leaves_nothing(services: Services) -> None:
    with pytest.raises(Boom):
        await _write_a_tag_then_fail(services)
    assert await _tags_with_slug(services, "half") == 0


async def test_a_finished_write_is_seen_by_every_later_read(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(insert(tags).values(name="Whole", slug="whole"))
    for _ in range(3):  # whichever pooled connection is handed out
        assert await _tags_with_slug(services, "whole") == 1
