"""A user list is asked for with a value (`UserQuery`); its SQL is built once per shape and
cached by value, the search and role bound as parameters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pressroom.kit.sorting import SortField
from pressroom.kit.windows import Window
from pressroom.services import Services
from pressroom.users import repository
from pressroom.users.models import UserQuery
from pressroom.users.repository import UserRepository
from pressroom.users.sorting import UserSortKey

QUERIES = st.builds(
    UserQuery,
    st.booleans(),
    st.one_of(st.none(), st.text(max_size=5)),
    st.one_of(st.none(), st.sampled_from(["user", "admin"])),
    st.lists(
        st.builds(SortField, st.sampled_from(list(UserSortKey)), st.booleans()),
        min_size=1,
        max_size=3,
        unique_by=lambda field: field.key,
    ).map(tuple),
)


@given(QUERIES)
def test_a_user_query_is_a_hashable_value(query: UserQuery) -> None:
    again = UserQuery(
        query.reader_manages_users,
        query.search,
        query.role,
        tuple(SortField(field.key, field.descending) for field in query.sort),
    )
    assert again == query
    assert hash(again) == hash(query)


@given(QUERIES)
def test_emails_are_matched_only_for_a_reader_who_manages_users(query: UserQuery) -> None:
    shape, params = repository._shape_and_params(query)
    assert shape.emails_matched == bool(query.search and query.reader_manages_users)
    assert ("email_search" in params) == shape.emails_matched
    sql = str(repository._built_page(shape)[0])
    assert ("lower(:email_search)" in sql) == shape.emails_matched


async def test_equal_user_queries_built_apart_share_one_cached_statement(
    services: Services,
) -> None:
    repository._built_page.cache_clear()
    async with services.db.read() as conn:
        for search in ("ann", "ann", "bob"):
            found = await UserRepository(conn).find(UserQuery(False, search), Window(20))
            assert found.items == []
    info = repository._built_page.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 2, 1)
