"""Shared fixtures: the same tests run against SQLite and a throwaway PostgreSQL database.

Actors (`anon`, `author`, `stranger`, `moderator`, `admin`) are real accounts signed in
through the API; each is an httpx client that carries its own bearer token.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, text

from pressroom.app import create_app
from pressroom.auth.permissions import Role
from pressroom.config import Settings
from pressroom.db import direct
from pressroom.db.migrate import migrate
from pressroom.db.units import UnitOfWork, unit_of_work
from pressroom.services import Services
from pressroom.users.schemas import CreateUserRequest

REQUIRE_SERVICES = os.environ.get("PRESSROOM_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_DSN = os.environ.get(
    "PRESSROOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("PRESSROOM_TEST_REDIS", "redis://127.0.0.1:6379/0")
API = "http://testserver/api/v1"
PASSWORD = "Correct-Horse-42"
TABLES = (
    "jobs",
    "email_tokens",
    "idempotency_keys",
    "webhook_deliveries",
    "webhook_endpoints",
    "events",
    "refresh_tokens",
    "sessions",
    "post_tags",
    "tags",
    "posts",
    "user_roles",
    "user_settings",
    "profiles",
    "users",
)


def service_missing(what: str, error: BaseException) -> None:
    """Fail under PRESSROOM_REQUIRE_SERVICES=1; otherwise skip, loudly."""
    message = f"{what} is not reachable ({error!r})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and PRESSROOM_REQUIRE_SERVICES=1", pytrace=False)
    sys.stderr.write(f"\n!!! SKIPPING {what} TESTS: {message} !!!\n")
    pytest.skip(f"!!! {message}; set PRESSROOM_REQUIRE_SERVICES=1 to fail instead")


async def _postgres_admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_postgres_database(revision: str = "head", *, migrated: bool = True) -> Iterator[str]:
    """A fresh PostgreSQL database migrated to `revision` (unless asked not to), dropped after."""
    name = f"pressroom_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        service_missing("PostgreSQL", error)
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        if migrated:
            migrate(url, revision)
        yield url
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`postgres_only` tests are not collected for SQLite: what they show (a row lock held by
    another connection) has no SQLite counterpart, so they are left out rather than skipped."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (dropped if on_sqlite and item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "pressroom.db"
        url = f"sqlite:///{path}"
        migrate(url)
        yield url
    else:
        with throwaway_postgres_database() as url:
            yield url


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "rate_limits_enabled": False,
        "log_level": "WARNING",
        # Many tests change rows behind the services' back (an operator's SQL, bulk seeds) and
        # read at once; a cached reply could be a second old for them. tests/http/ turns it on.
        "hot_read_cache_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to run its app with other settings."""
    return {}


async def empty_tables(services: Services) -> None:
    async with services.db.write() as conn:
        if services.db.is_sqlite:
            for table in TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))
        else:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def app(database_url: str, settings_overrides: dict[str, Any]) -> AsyncIterator[Any]:
    application = create_app(make_settings(database_url, **settings_overrides))
    services: Services = application.state.services
    await empty_tables(services)
    yield application
    await services.close()


@pytest.fixture
def services(app: Any) -> Services:
    result: Services = app.state.services
    return result


@pytest.fixture
async def uow(services: Services) -> AsyncIterator[UnitOfWork]:
    """A unit of work for a test that calls services directly, as a door would."""
    async with unit_of_work(services.db) as unit:
        yield unit


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API) as http:
        yield http


@dataclass
class Person:
    """A signed-in account and an HTTP client that sends its bearer token."""

    id: int
    email: str
    password: str
    access_token: str
    refresh_token: str
    http: httpx.AsyncClient
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def with_headers(self, kwargs: dict[str, Any]) -> dict[str, str]:
        """The bearer token and the request's own headers (`If-Match`, `Idempotency-Key`)."""
        return {**self.headers, **kwargs.pop("headers", {})}

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(url, headers=self.with_headers(kwargs), **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.post(url, headers=self.with_headers(kwargs), **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.patch(url, headers=self.with_headers(kwargs), **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.delete(url, headers=self.with_headers(kwargs), **kwargs)


class People:
    """Makes accounts with given roles and signs them in through the API."""

    def __init__(self, services: Services, http: httpx.AsyncClient) -> None:
        self.services = services
        self.http = http
        self.count = 0

    async def make(
        self,
        role: Role = Role.USER,
        *,
        email: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        password: str = PASSWORD,
    ) -> Person:
        self.count += 1
        email = email or f"{role.value}{self.count}@example.com"
        data = CreateUserRequest.model_validate(
            {
                "email": email,
                "password": password,
                "profile": {
                    "firstName": first_name,
                    "lastName": last_name or f"Person{self.count}",
                },
            }
        )
        roles = (Role.USER,) if role is Role.USER else (Role.USER, role)
        async with unit_of_work(self.services.db) as uow:
            view = await self.services.users.sign_up(uow, data, roles=roles)
        return await self.sign_in(view.user.id, email, password, tuple(r.value for r in roles))

    async def sign_in(
        self, user_id: int, email: str, password: str, roles: tuple[str, ...] = ()
    ) -> Person:
        reply = await self.http.post("/auth/login", json={"email": email, "password": password})
        assert reply.status_code == 200, reply.text
        tokens = reply.json()
        return Person(
            user_id,
            email,
            password,
            tokens["accessToken"],
            tokens["refreshToken"],
            self.http,
            roles,
        )


@pytest.fixture
def people(services: Services, client: httpx.AsyncClient) -> People:
    return People(services, client)


@pytest.fixture
def anon(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return client


@pytest.fixture
async def author(people: People) -> Person:
    return await people.make(Role.USER, first_name="Ada", last_name="Author")


@pytest.fixture
async def stranger(people: People) -> Person:
    return await people.make(Role.USER, first_name="Sam", last_name="Stranger")


@pytest.fixture
async def moderator(people: People) -> Person:
    return await people.make(Role.MODERATOR, first_name="Mo", last_name="Moderator")


@pytest.fixture
async def admin(people: People) -> Person:
    return await people.make(Role.ADMIN, first_name="Al", last_name="Admin")


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(services: Services) -> Any:
    """`with count_statements() as counter:` counts the SQL statements the app sends."""

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()

        def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                counter.statements.append(statement)

        def on_direct(statement: str, _values: Any) -> None:
            counter.statements.append(statement)

        # What SQLAlchemy runs, and what `DirectQuery` sends on the driver itself.
        engine = services.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", on_execute)
        direct.add_listener(on_direct)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            direct.remove_listener(on_direct)

    return counting


def assert_error(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The reply is the error envelope with this status and code; returns the error object."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return dict(body["error"])


@pytest.fixture
def caller(request: pytest.FixtureRequest) -> Any:
    """The actor fixture named by the test's parameter, e.g.
    `@pytest.mark.parametrize("caller", ["anon", "author"], indirect=True)`."""
    return request.getfixturevalue(request.param)
