"""A post list is asked for with a value (`PostQuery`): who asks, which posts, which order.
Its SQL is built once per shape and cached by value, so equal specs built apart share one
statement, and no filter can be added that silently loses the cache or the kept total."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pressroom.auth.actor import Reader
from pressroom.kit.sorting import SortField
from pressroom.kit.windows import Window
from pressroom.posts import repository
from pressroom.posts.models import PostFilter, PostQuery
from pressroom.posts.repository import PostRepository
from pressroom.posts.sorting import PostSortKey
from pressroom.services import Services
from tests.conftest import Person

READERS = st.builds(
    Reader, st.one_of(st.none(), st.integers(min_value=1, max_value=5)), st.booleans()
)
FILTERS = st.builds(
    PostFilter,
    published=st.sampled_from([True, False, None]),
    tag_slug=st.one_of(st.none(), st.sampled_from(["", "news", "art"])),
    author_id=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
    search=st.one_of(st.none(), st.sampled_from(["", "a", "b"])),
)
SORTS = st.lists(
    st.builds(SortField, st.sampled_from(list(PostSortKey)), st.booleans()),
    min_size=1,
    max_size=3,
    unique_by=lambda field: field.key,
).map(tuple)
QUERIES = st.builds(PostQuery, READERS, FILTERS, SORTS)


def rebuilt(query: PostQuery) -> PostQuery:
    """The same spec, built again from its parts: equal, never the same object."""
    wanted = query.filter
    return PostQuery(
        Reader(query.reader.user_id, query.reader.sees_all_drafts),
        PostFilter(wanted.published, wanted.tag_slug, wanted.author_id, wanted.search),
        tuple(SortField(field.key, field.descending) for field in query.sort),
    )


@given(QUERIES)
def test_a_spec_is_a_hashable_value(query: PostQuery) -> None:
    again = rebuilt(query)
    assert again is not query
    assert again == query
    assert hash(again) == hash(query)
    assert {query: "cached"}[again] == "cached"


@given(QUERIES)
def test_equal_specs_have_one_shape_and_the_same_values(query: PostQuery) -> None:
    assert repository._shape_and_params(rebuilt(query)) == repository._shape_and_params(query)


@given(QUERIES)
def test_only_the_whole_published_list_uses_the_kept_total(query: PostQuery) -> None:
    shape, _ = repository._shape_and_params(query)
    wanted = query.filter
    unfiltered = all(
        getattr(wanted, field.name) in (None, "")
        for field in fields(PostFilter)
        if field.name != "published"
    )
    assert shape.whole_published_list == (wanted.published is True and unfiltered)
    sql = str(repository._built_page(shape).rows.statement)
    assert ("published_post_total" in sql) == shape.whole_published_list


@pytest.mark.parametrize("name", [f.name for f in fields(PostFilter) if f.name != "published"])
def test_every_filter_reaches_the_sql_and_turns_off_the_kept_total(name: str) -> None:
    value = 3 if name == "author_id" else "news"
    query = PostQuery(Reader(), PostFilter(**{name: value}))
    shape, params = repository._shape_and_params(query)
    assert shape.filters == (name,)
    assert not shape.whole_published_list
    assert name in params
    assert f":{name}" in str(repository._built_page(shape).rows.statement)


async def test_equal_specs_built_apart_share_one_cached_statement(
    services: Services, author: Person, stranger: Person
) -> None:
    repository._built_page.cache_clear()
    asked = [
        PostQuery(Reader(author.id), PostFilter(published=False, search="x")),
        rebuilt(PostQuery(Reader(author.id), PostFilter(published=False, search="x"))),
        # Another reader and another value of the filter: the same shape, the same statement.
        PostQuery(Reader(stranger.id), PostFilter(published=False, search="y")),
    ]
    async with services.db.read() as conn:
        for query in asked:
            found = await PostRepository(conn).find(query, Window(20))
            assert found.items == []
    info = repository._built_page.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 2, 1)


async def test_specs_of_other_shapes_get_statements_of_their_own(services: Services) -> None:
    repository._built_page.cache_clear()
    by_title = (SortField(PostSortKey.TITLE, descending=False),)
    asked = [
        PostQuery(Reader()),
        PostQuery(Reader(), sort=by_title),
        PostQuery(Reader(), PostFilter(tag_slug="news")),
        PostQuery(Reader(1), PostFilter(published=False)),
        PostQuery(Reader(1, sees_all_drafts=True), PostFilter(published=False)),
    ]
    async with services.db.read() as conn:
        for query in asked:
            await PostRepository(conn).find(query, Window(20))
    assert repository._built_page.cache_info().currsize == len(asked)
