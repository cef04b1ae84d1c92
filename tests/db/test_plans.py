"""The hot reads keep their plans on a PostgreSQL database that has never been analysed.

A bulk load (seed-demo's rows, inserted without its ANALYZE, autovacuum off on those tables as
some installations run it) leaves the planner no statistics. The list page must still be the
list index read in order and stopped after the page, and one post a primary-key lookup: the
statements are written so that the planner has no worse choice (posts/repository.py). Each
statement is the one the application sends (captured on its way to the driver), planned as
asyncpg runs it: with the values (a custom plan) and as a prepared statement's generic plan.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from pressroom.app import create_app
from pressroom.db import direct
from pressroom.demo import SEEDED_TABLES, seed
from tests.conftest import make_settings, throwaway_postgres_database

PLAN_MODES = ("force_custom_plan", "force_generic_plan")
LIST_INDEX = "ix_posts_published_list"


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _reads_posts(plan: dict[str, Any]) -> bool:
    return any(node.get("Relation Name") == "posts" for node in _nodes(plan))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int | float):
        return str(value).lower()
    return "'" + str(value).replace("'", "''") + "'"


class Plans:
    """The statements the application sent for two requests, and their plans."""

    def __init__(self, url: str, sent: dict[str, tuple[str, list[Any]]]) -> None:
        self.url = url
        self.sent = sent

    def plan(self, request: str, mode: str) -> dict[str, Any]:
        sql, values = self.sent[request]

        async def explain() -> dict[str, Any]:
            conn = await asyncpg.connect(self.url, statement_cache_size=0)
            try:
                await conn.execute(f"SET plan_cache_mode = {mode}")
                await conn.execute(f"PREPARE hot AS {sql}")
                arguments = ", ".join(_literal(v) for v in values)
                answer = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE hot({arguments})")
                plan: dict[str, Any] = json.loads(answer)[0]["Plan"]
                return plan
            finally:
                await conn.close()

        return asyncio.run(explain())


async def _unanalysed_statistics(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'posts'"
            )
        )
    finally:
        await conn.close()


async def _bulk_load_without_analyse(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in SEEDED_TABLES:
            await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
    finally:
        await conn.close()
    await seed(make_settings(url), users=1000, posts=10_000, tags=50, analyse=False)


async def _statements_sent(url: str) -> dict[str, tuple[str, list[Any]]]:
    sent: list[tuple[str, list[Any]]] = []

    def record(sql: str, values: Any) -> None:
        sent.append((sql, list(values)))

    app = create_app(make_settings(url))
    direct.add_listener(record)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as http:
            page = await http.get("/posts?limit=20")
            assert page.status_code == 200
            assert len(page.json()["data"]) == 20
            list_sql = next(s for s in sent if "page_total" in s[0])
            sent.clear()
            one = await http.get(f"/posts/{page.json()['data'][0]['id']}")
            assert one.status_code == 200
            one_sql = next(s for s in sent if "FROM posts" in s[0])
    finally:
        direct.remove_listener(record)
        await app.state.services.close()
    return {"list": list_sql, "one": one_sql}


@pytest.fixture(scope="module")
def plans() -> Iterator[Plans]:
    with throwaway_postgres_database() as url:
        asyncio.run(_bulk_load_without_analyse(url))
        # What the test is about: no column statistics for the planner to go by.
        assert asyncio.run(_unanalysed_statistics(url)) == 0
        yield Plans(url, asyncio.run(_statements_sent(url)))


@pytest.mark.parametrize("mode", PLAN_MODES)
def test_the_list_page_reads_the_list_index_in_order_without_statistics(
    plans: Plans, mode: str
) -> None:
    plan = plans.plan("list", mode)
    posts_reads = [node for node in _nodes(plan) if node.get("Relation Name") == "posts"]
    assert [(n["Node Type"], n.get("Index Name")) for n in posts_reads] == [
        ("Index Scan", LIST_INDEX)
    ], json.dumps(plan, indent=1)
    # Read in the list's order and stopped at the page's end: no sort of the posts.
    assert plan["Node Type"] == "Limit"
    sorts = [node for node in _nodes(plan) if node["Node Type"] == "Sort"]
    assert not any(_reads_posts(node) for node in sorts), json.dumps(plan, indent=1)


@pytest.mark.parametrize("mode", PLAN_MODES)
def test_one_post_is_a_primary_key_lookup_without_statistics(plans: Plans, mode: str) -> None:
    plan = plans.plan("one", mode)
    reads = {
        node["Relation Name"]: (node["Node Type"], node.get("Index Name"))
        for node in _nodes(plan)
        if node.get("Relation Name") in {"posts", "users", "profiles"}
    }
    assert reads == {
        "posts": ("Index Scan", "pk_posts"),
        "users": ("Index Scan", "pk_users"),
        "profiles": ("Index Scan", "uq_profiles_user_id"),
    }, json.dumps(plan, indent=1)
