"""One address, one account: emails are NFKC-normalised and case-folded before they are
stored or compared, on SQLite and PostgreSQL alike (SQLite's lower() folds only ASCII)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pressroom.db.migrate import alembic_config, migrate
from pressroom.db.urls import async_url
from pressroom.kit.clock import utcnow
from tests.conftest import PASSWORD, Person, assert_error, throwaway_postgres_database


def sign_up_body(email: str) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "profile": {"firstName": "A", "lastName": "B"}}


async def test_a_fullwidth_look_alike_is_the_same_address(anon: httpx.AsyncClient) -> None:
    first = await anon.post("/users", json=sign_up_body("ann@example.com"))
    assert first.status_code == 201, first.text
    for look_alike in ("ａｎｎ@example.com", "ＡＮＮ@example.com", "ANN@EXAMPLE.COM"):
        reply = await anon.post("/users", json=sign_up_body(look_alike))
        assert_error(reply, 409, "CONFLICT")


async def test_an_address_is_stored_normalised_and_signs_in_by_any_spelling(
    anon: httpx.AsyncClient,
) -> None:
    reply = await anon.post("/users", json=sign_up_body("Ｚoë.Ünal@Example.com"))
    assert reply.status_code == 201, reply.text
    assert reply.json()["email"] == "zoë.ünal@example.com"
    for spelling in ("zoë.ünal@example.com", "ZOË.ÜNAL@EXAMPLE.COM", "ｚｏë.ünal@example.com"):
        login = await anon.post("/auth/login", json={"email": spelling, "password": PASSWORD})
        assert login.status_code == 200, (spelling, login.text)


async def test_a_manager_finds_a_user_by_a_look_alike_of_their_email(
    admin: Person, anon: httpx.AsyncClient
) -> None:
    assert (await anon.post("/users", json=sign_up_body("émile@example.com"))).status_code == 201
    found = await admin.get("/users", params={"q": "ÉＭＩＬＥ@"})
    assert [u["email"] for u in found.json()["data"]] == ["émile@example.com"]


OLD_ROWS = [
    # id, stored email, deleted
    (1, "ＢＯＢ@example.com", False),  # alone once normalised: rewritten
    (2, "ａｎｎ@example.com", False),  # collides with 3 once normalised: both left, reported
    (3, "ann@example.com", False),
    (4, "ÉMILE@example.com", True),  # deleted: normalised, the index leaves it out anyway
    (5, "émile@example.com", False),
]


def run_migration_test(url: str, caplog: pytest.LogCaptureFixture) -> None:
    """`url` is at 0004 or later; the rows are written as 0004 left them, then upgraded."""
    command.downgrade(alembic_config(url), "0004")
    asyncio.run(_fill(url))
    with caplog.at_level(logging.WARNING, logger="pressroom.migrations"):
        migrate(url, "0006")
    assert asyncio.run(_emails(url)) == {
        1: "bob@example.com",
        2: "ａｎｎ@example.com",
        3: "ann@example.com",
        4: "émile@example.com",
        5: "émile@example.com",
    }
    reports = [r.getMessage() for r in caplog.records if r.name == "pressroom.migrations"]
    assert len(reports) == 1, reports
    assert "[2, 3]" in reports[0]
    assert "@" not in reports[0]  # ids, not addresses


async def _fill(url: str) -> None:
    now = utcnow()
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        for user_id, email, deleted in OLD_ROWS:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, created_at, updated_at,"
                    " deleted_at) VALUES (:id, :email, 'x', :t, :t, :deleted)"
                ),
                {
                    "id": user_id,
                    "email": email,
                    "t": now,
                    "deleted": now if deleted else None,
                },
            )
    await engine.dispose()


async def _emails(url: str) -> dict[int, str]:
    engine = create_async_engine(async_url(url))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, email FROM users ORDER BY id"))).all()
    await engine.dispose()
    return {int(row.id): row.email for row in rows}


def test_migration_normalises_stored_emails_and_reports_collisions_on_sqlite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0004")
    run_migration_test(url, caplog)


def test_migration_normalises_stored_emails_and_reports_collisions_on_postgresql(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with throwaway_postgres_database() as url:
        run_migration_test(url, caplog)
