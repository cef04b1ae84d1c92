"""`DATABASE_URL`: the two kinds of URL served, each given its async driver."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

SUPPORTED_URLS = "sqlite:///path.db or postgresql://user:password@host:5432/dbname"


class DatabaseUrlError(ValueError):
    """`DATABASE_URL` cannot name a database we serve; the message says why, never the password."""


def async_url(url: str) -> str:
    """Accept plain `sqlite:///…` and `postgresql://…` URLs; choose the async driver here."""
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        # The URL itself is not repeated: it may hold a password.
        raise DatabaseUrlError(f"not a database URL; expected {SUPPORTED_URLS}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseUrlError(
        f"unsupported scheme {parsed.drivername!r}; supported: sqlite, postgresql"
        f" (e.g. {SUPPORTED_URLS})"
    )
