"""What a command checks before it starts: a mistake in `DATABASE_URL` or `REDIS_URL` (malformed,
unsupported, unreachable) becomes one sentence naming the setting, instead of a traceback at the
first query or a server that starts and answers 503 for ever."""

from __future__ import annotations

import socket
import sqlite3

from redis.asyncio.connection import parse_url as parse_redis_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from pressroom.config import Settings
from pressroom.db.engine import Database
from pressroom.db.migrate import SchemaState, schema_state
from pressroom.db.urls import DatabaseUrlError, async_url
from pressroom.kit.shared_state import REDIS_FAILURES, SharedState

REDIS_URL_EXAMPLE = "redis://host:6379/0 (or rediss://…, unix:///path.sock)"


class SettingProblem(Exception):
    """A setting that cannot work; `str()` is the one line to show."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


def check_urls(settings: Settings) -> None:
    """Both URLs parse and name something we can talk to; nothing is contacted."""
    try:
        async_url(settings.database_url)
    except DatabaseUrlError as error:
        raise SettingProblem("DATABASE_URL", str(error)) from error
    if settings.redis_url is not None:
        try:
            parse_redis_url(settings.redis_url)
        except ValueError as error:
            # redis-py's own message may repeat the URL, password included.
            raise SettingProblem(
                "REDIS_URL", f"not a Redis URL; expected {REDIS_URL_EXAMPLE}"
            ) from error


async def check_database(settings: Settings) -> SchemaState:
    """The database answers; returns where its schema stands."""
    check_urls(settings)
    _open_sqlite_file(settings)
    db = Database(
        settings.database_url,
        pool_size=1,
        timeout_seconds=settings.database_timeout_seconds,
        command_timeout_seconds=settings.database_command_timeout_seconds,
    )
    try:
        async with db.read() as conn:
            return await schema_state(conn)
    except (OSError, TimeoutError, sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
        raise SettingProblem("DATABASE_URL", _database_failure(settings, error)) from error
    finally:
        await db.dispose()


def _open_sqlite_file(settings: Settings) -> None:
    """A SQLite file that cannot be opened is found here, on this thread: found by aiosqlite,
    its worker thread may still be reporting the failure to a closed event loop as the command
    exits, and print a traceback under the one line."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    try:
        sqlite3.connect(url.database).close()
    except sqlite3.Error as error:
        raise SettingProblem("DATABASE_URL", _database_failure(settings, error)) from error


async def check_redis(settings: Settings) -> None:
    """Redis answers a PING, when `REDIS_URL` is set."""
    check_urls(settings)
    shared = SharedState(
        settings.redis_url, settings.redis_key_prefix, settings.redis_timeout_seconds
    )
    try:
        await shared.ping()
    except REDIS_FAILURES as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SettingProblem("REDIS_URL", f"Redis does not answer ({reason})") from error
    finally:
        await shared.close()


def _database_failure(settings: Settings, error: BaseException) -> str:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database!r} ({_first_line(error)})"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    timeout = settings.database_timeout_seconds
    if isinstance(error, ConnectionRefusedError):
        return f"nothing accepts connections at {where}; is PostgreSQL running there?"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host {url.host!r}"
    if isinstance(error, TimeoutError | sa_exc.TimeoutError):
        return f"no answer from {where} within {timeout:g} s (DATABASE_TIMEOUT_SECONDS)"
    if isinstance(error, OSError):
        return f"cannot connect to {where} ({_first_line(error)})"
    return f"PostgreSQL at {where} refused: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    # A driver error wrapped by SQLAlchemy carries the driver's own sentence in `orig`; the
    # wrapper adds the SQL and a link. Statements here bind no values, so nothing secret shows.
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]
