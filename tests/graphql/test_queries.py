"""Reading through GraphQL: the same views and visibility as REST, Relay connections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from pressroom.kit.cursors import Position, encode_cursor
from tests.conftest import Person, assert_error
from tests.graphql.conftest import assert_refusal, data_of, error_codes, graphql

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
USER_FIELDS = (
    "id email emailVerified roles profile { firstName lastName }"
    " settings { emailNotifications } createdAt updatedAt"
)


async def publish(person: Person, title: str, tags: list[str] | None = None) -> int:
    reply = await person.post(
        "/posts", json={"title": title, "content": "Body", "published": True, "tags": tags or []}
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def test_current_user_is_the_full_view_with_string_ids_and_z_timestamps(
    author: Person,
) -> None:
    data = await data_of(author, f"{{ currentUser {{ {USER_FIELDS} }} }}")
    me = data["currentUser"]
    assert me["id"] == str(author.id)
    assert me["email"] == author.email
    assert me["roles"] == ["user"]
    assert me["settings"] == {"emailNotifications": True}
    assert RFC3339_Z.match(me["createdAt"])
    assert RFC3339_Z.match(me["updatedAt"])


async def test_current_user_is_null_for_anonymous_callers(anon: httpx.AsyncClient) -> None:
    assert await data_of(anon, "{ currentUser { id } }") == {"currentUser": None}


async def test_another_user_sees_no_email_as_in_rest(author: Person, stranger: Person) -> None:
    data = await data_of(stranger, f'{{ user(id: "{author.id}") {{ {USER_FIELDS} }} }}')
    seen = data["user"]
    assert seen["email"] is None
    assert seen["roles"] is None
    assert seen["settings"] is None
    assert seen["updatedAt"] is None
    assert seen["profile"] == {"firstName": "Ada", "lastName": "Author"}
    rest = (await stranger.get(f"/users/{author.id}")).json()
    assert "email" not in rest


async def test_admin_sees_every_email(author: Person, admin: Person) -> None:
    data = await data_of(admin, f'{{ user(id: "{author.id}") {{ email }} }}')
    assert data["user"]["email"] == author.email


async def test_unknown_user_is_null(author: Person) -> None:
    assert await data_of(author, '{ user(id: "999999") { id } }') == {"user": None}


async def test_users_need_a_signed_in_caller(anon: httpx.AsyncClient) -> None:
    body = await graphql(anon, "{ users { totalCount } }")
    assert body["data"] is None
    assert error_codes(body) == ["AUTHENTICATION_ERROR"]
    assert body["errors"][0]["message"] == "Authentication required"


async def test_a_bad_token_is_refused_not_treated_as_anonymous(
    client: httpx.AsyncClient, count_statements: Any
) -> None:
    with count_statements() as counter:
        reply = await client.post(
            "http://testserver/graphql",
            json={"query": "{ posts { totalCount } }"},
            headers={"Authorization": "Bearer not-a-token"},
        )
    assert_refusal(reply, 401, "AUTHENTICATION_ERROR")
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert counter.count == 0


async def test_queries_work_over_get(anon: httpx.AsyncClient, author: Person) -> None:
    await publish(author, "Over GET")
    reply = await anon.get(
        "http://testserver/graphql", params={"query": "{ posts { edges { node { title } } } }"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"]["posts"]["edges"][0]["node"]["title"] == "Over GET"


async def test_mutations_are_refused_over_get_with_the_error_envelope(
    anon: httpx.AsyncClient,
) -> None:
    query = 'mutation { login(input: {email: "a@b.co", password: "x"}) { errors { code } } }'
    reply = await anon.get("http://testserver/graphql", params={"query": query})
    error = assert_error(reply, 400, "VALIDATION_ERROR")
    assert "mutations are not allowed" in error["message"].lower()


async def test_a_body_that_is_not_json_gets_the_error_envelope(anon: httpx.AsyncClient) -> None:
    reply = await anon.post(
        "http://testserver/graphql",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(reply, 400, "VALIDATION_ERROR")


async def test_posts_walk_forward_with_cursors_without_repeats(
    author: Person, anon: httpx.AsyncClient
) -> None:
    ids = [await publish(author, f"Post {n}") for n in range(5)]
    query = """query($after: String) { posts(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } } }"""
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        connection = (await data_of(anon, query, {"after": after}))["posts"]
        pages += 1
        assert connection["totalCount"] == 5
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [int(edge["node"]["id"]) for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == list(reversed(ids))


async def test_a_cursor_still_works_after_new_posts_arrive(
    author: Person, anon: httpx.AsyncClient
) -> None:
    ids = [await publish(author, f"Post {n}") for n in range(4)]
    query = """query($after: String) {
        posts(first: 2, after: $after) { edges { node { id } } pageInfo { endCursor } } }"""
    first_page = (await data_of(anon, query))["posts"]
    await publish(author, "Newer")
    await publish(author, "Newest")
    second = (await data_of(anon, query, {"after": first_page["pageInfo"]["endCursor"]}))["posts"]
    assert [int(e["node"]["id"]) for e in second["edges"]] == [ids[1], ids[0]]


async def test_a_made_up_cursor_is_a_validation_error(anon: httpx.AsyncClient) -> None:
    body = await graphql(anon, '{ posts(after: "bm9wZQ") { totalCount } }')
    assert error_codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["details"] == {"after": ["is not a cursor of this list"]}


async def test_others_drafts_are_null_and_own_drafts_visible(
    author: Person, stranger: Person
) -> None:
    draft = await author.post("/posts", json={"title": "Secret", "content": "x"})
    post_id = draft.json()["id"]
    query = f'{{ post(id: "{post_id}") {{ title published publishedAt author {{ id }} }} }}'
    assert await data_of(stranger, query) == {"post": None}
    own = (await data_of(author, query))["post"]
    assert own == {
        "title": "Secret",
        "published": False,
        "publishedAt": None,
        "author": {"id": str(author.id)},
    }


async def test_user_posts_include_drafts_only_for_their_author(
    author: Person, stranger: Person, moderator: Person
) -> None:
    await publish(author, "Out")
    await author.post("/posts", json={"title": "Draft", "content": "x"})
    query = (
        f'{{ user(id: "{author.id}") {{ posts {{ totalCount edges {{ node {{ title }} }} }} }} }}'
    )
    titles = lambda data: [e["node"]["title"] for e in data["user"]["posts"]["edges"]]  # noqa: E731
    assert titles(await data_of(stranger, query)) == ["Out"]
    assert titles(await data_of(author, query)) == ["Draft", "Out"]
    assert titles(await data_of(moderator, query)) == ["Draft", "Out"]


async def test_tags_list_with_post_counts(author: Person, anon: httpx.AsyncClient) -> None:
    await publish(author, "One", ["Python", "News"])
    await publish(author, "Two", ["Python"])
    data = await data_of(anon, "{ tags { totalCount edges { node { name slug postCount } } } }")
    assert [e["node"] for e in data["tags"]["edges"]] == [
        {"name": "News", "slug": "news", "postCount": 1},
        {"name": "Python", "slug": "python", "postCount": 2},
    ]
    posts = await data_of(anon, "{ posts { edges { node { tags { slug postCount } } } } }")
    assert posts["posts"]["edges"][1]["node"]["tags"] == [
        {"slug": "news", "postCount": 1},
        {"slug": "python", "postCount": 2},
    ]


async def test_users_filter_by_role_is_for_managers(
    admin: Person, author: Person, moderator: Person
) -> None:
    query = '{ users(filter: {role: "moderator"}) { totalCount edges { node { id } } } }'
    data = await data_of(admin, query)
    assert [e["node"]["id"] for e in data["users"]["edges"]] == [str(moderator.id)]
    body = await graphql(author, query)
    assert error_codes(body) == ["AUTHORIZATION_ERROR"]


async def test_non_ascii_text_comes_back_as_written(
    author: Person, anon: httpx.AsyncClient
) -> None:
    title = "Crème brûlée, 東京 ✓ \U0001f600"
    await publish(author, title)
    reply = await anon.post(
        "http://testserver/graphql", json={"query": "{ posts { edges { node { title } } } }"}
    )
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["data"]["posts"]["edges"][0]["node"]["title"] == title


async def test_a_first_page_is_the_keyset_page_from_before_the_newest(
    author: Person, moderator: Person
) -> None:
    """The first page (a prebuilt statement) and a page after a cursor (a keyset statement)
    agree on posts, cursors, totals and what comes next, for both orders of the list."""
    for n in range(4):
        await publish(author, f"Out {n}")
        await author.post("/posts", json={"title": f"Draft {n}", "content": "x"})
    for published, key in ((True, "published_at"), (False, "created_at")):
        # A cursor newer than any post: the keyset statement then starts at the newest post.
        before_all = encode_cursor(Position(key, datetime(2999, 1, 1, tzinfo=UTC), 2**62))
        query = """query($published: Boolean, $first: Int, $after: String) {
            posts(filter: {published: $published}, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title } } } }"""
        for first in (1, 3, 4, 10):
            variables: dict[str, Any] = {"published": published, "first": first}
            first_page = (await data_of(moderator, query, variables))["posts"]
            keyset = (await data_of(moderator, query, {**variables, "after": before_all}))["posts"]
            assert first_page == keyset, (published, first)
            assert first_page["totalCount"] == 4
            assert first_page["pageInfo"]["hasNextPage"] is (first < 4)
