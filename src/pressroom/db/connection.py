"""The connection a unit of work hands a service, which only passes it on to repositories.

Services hold no SQL and import nothing of SQLAlchemy (import-linter's "services-no-sql"
contract); they name the connection by this alias, and only repositories use what it can do.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncConnection

Connection: TypeAlias = AsyncConnection
