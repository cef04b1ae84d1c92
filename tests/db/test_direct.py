"""Hot reads run on the driver itself on PostgreSQL: they must answer exactly as SQLAlchemy
would, be seen by statement listeners, and fail the way every other statement fails."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import BigInteger, any_, bindparam, func, literal_column, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY

from pressroom.db.direct import DirectQuery
from pressroom.db.tables import post_tags, tags, user_roles, users
from pressroom.services import Services
from tests.conftest import Person

_ROLES = (
    select(
        users.c.id,
        users.c.email,
        func.aggregate_strings(user_roles.c.role, literal_column("','")).label("roles"),
    )
    .select_from(users.join(user_roles, user_roles.c.user_id == users.c.id))
    .group_by(users.c.id, users.c.email)
    .order_by(users.c.id)
)
# The list of ids is one array parameter on PostgreSQL, an expanding IN elsewhere.
_ROLES_OF_USERS = _ROLES.where(users.c.id == any_(bindparam("user_ids", type_=ARRAY(BigInteger))))
_ROLES_OF_USERS_IN = _ROLES.where(users.c.id.in_(bindparam("user_ids", expanding=True)))


async def test_rows_match_what_sqlalchemy_returns(
    services: Services, author: Person, moderator: Person, admin: Person
) -> None:
    query = DirectQuery(_ROLES_OF_USERS, elsewhere=_ROLES_OF_USERS_IN)
    # Lists of any length run the same SQL text.
    for user_ids in ([author.id], [author.id, moderator.id, admin.id], [admin.id, -1]):
        async with services.db.read() as conn:
            direct = await query.all(conn, {"user_ids": user_ids})
            expected = (await conn.execute(query.elsewhere, {"user_ids": user_ids})).all()
        assert [dict(row) for row in direct] == [dict(row._mapping) for row in expected]
        assert [row["id"] for row in direct] == sorted(i for i in user_ids if i > 0)
    async with services.db.read() as conn:
        assert await query.first(conn, {"user_ids": [-1]}) is None


async def test_statement_listeners_see_direct_reads(
    services: Services, count_statements: Any, author: Person
) -> None:
    with count_statements() as counter:
        async with services.db.read() as conn:
            query = DirectQuery(_ROLES_OF_USERS, elsewhere=_ROLES_OF_USERS_IN)
            await query.all(conn, {"user_ids": [author.id]})
    assert counter.count == 1
    assert "user_roles" in counter.statements[0]


async def test_a_statement_whose_text_changes_per_call_is_refused_on_postgresql(
    services: Services, author: Person
) -> None:
    # An expanding IN is rendered anew for each list: only SQLAlchemy's private steps could
    # render it, so the driver path refuses it up front rather than sending a wrong text.
    query = DirectQuery(_ROLES_OF_USERS_IN)
    async with services.db.read() as conn:
        if services.db.is_sqlite:
            assert len(await query.all(conn, {"user_ids": [author.id]})) == 1
            return
        with pytest.raises(ValueError, match="expanding IN"):
            await query.all(conn, {"user_ids": [author.id]})


async def test_values_the_database_refuses_are_data_errors(services: Services) -> None:
    by_name = DirectQuery(select(tags.c.id).where(tags.c.name == bindparam("name")))
    by_id = DirectQuery(select(post_tags.c.post_id).where(post_tags.c.post_id == bindparam("id")))
    odd_values = ((by_name, {"name": "a\x00b"}), (by_id, {"id": "not a number"}))
    async with services.db.read() as conn:
        for query, params in odd_values:
            if services.db.is_sqlite:
                # SQLite stores and compares any value: these simply match nothing.
                assert await query.all(conn, params) == []
                continue
            # PostgreSQL text cannot hold NUL (refused by the server); a word is no BIGINT
            # (refused by asyncpg before sending). Both carry SQLSTATE class 22, which the
            # error handlers answer with 400.
            with pytest.raises(sa_exc.DBAPIError) as refused:
                await query.all(conn, params)
            assert getattr(refused.value.orig, "sqlstate", "").startswith("22")
            assert not refused.value.connection_invalidated
        # The connection is still good for the rest of the request.
        assert await by_id.all(conn, {"id": -1}) == []


async def test_columns_of_one_name_are_told_apart_as_sqlalchemy_does(
    services: Services, author: Person
) -> None:
    both_ids = select(users.c.id, user_roles.c.user_id, users.c.id.label("id_again")).where(
        user_roles.c.user_id == users.c.id, users.c.id == bindparam("user_id")
    )
    statement = both_ids.add_columns(user_roles.c.user_id)
    async with services.db.read() as conn:
        direct = await DirectQuery(statement).first(conn, {"user_id": author.id})
        expected = (await conn.execute(statement, {"user_id": author.id})).first()
    assert direct is not None
    assert expected is not None
    assert dict(direct) == dict(expected._mapping)
    assert len(dict(direct)) == 4
