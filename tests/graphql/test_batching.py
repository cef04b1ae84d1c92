"""DataLoaders: a nested query costs one SQL statement per level, whatever the list sizes."""

from __future__ import annotations

from typing import Any

from pressroom.auth.actor import Actor
from pressroom.db.units import unit_of_work
from pressroom.posts.schemas import CreatePostRequest
from pressroom.services import Services
from pressroom.users.schemas import CreateUserRequest
from tests.conftest import PASSWORD, Person
from tests.graphql.conftest import data_of

POSTS_PER_USER = 3
NESTED = """{ users(pagination: {first: 20}) { edges { node { id
    posts(first: 10) { edges { node { id tags { slug } author { id } } } } } } } }"""


async def add_writers(services: Services, count: int, start: int) -> None:
    """Users with published posts, each post carrying two tags."""
    async with unit_of_work(services.db) as uow:
        for n in range(start, start + count):
            view = await services.users.sign_up(
                uow,
                CreateUserRequest.model_validate(
                    {
                        "email": f"writer{n}@example.com",
                        "password": PASSWORD,
                        "profile": {"firstName": "Writer", "lastName": f"N{n}"},
                    }
                ),
            )
            writer = Actor.signed_in(view.user.id, 0, view.user.email, view.user.roles)
            for p in range(POSTS_PER_USER):
                await services.posts.create(
                    uow,
                    writer,
                    CreatePostRequest.model_validate(
                        {
                            "title": f"Post {p} by {n}",
                            "content": "Body",
                            "published": True,
                            "tags": [f"tag{p}", f"writer{n}"],
                        }
                    ),
                )


def check_shape(data: dict[str, Any], users: int) -> None:
    edges = data["users"]["edges"]
    assert len(edges) == users
    for edge in edges:
        user = edge["node"]
        for post_edge in user["posts"]["edges"]:
            post = post_edge["node"]
            assert post["author"] == {"id": user["id"]}
            assert len(post["tags"]) == 2


async def test_users_posts_tags_authors_cost_four_statements_for_2_or_20_users(
    admin: Person, services: Services, count_statements: Any
) -> None:
    await add_writers(services, 1, 0)  # with the admin: 2 users
    with count_statements() as small:
        check_shape(await data_of(admin, NESTED), users=2)
    await add_writers(services, 18, 1)  # 20 users, 57 posts, 114 tag links
    with count_statements() as large:
        check_shape(await data_of(admin, NESTED), users=20)
    # The access-token check, the users, their posts, the tags of those posts.
    assert small.count <= 4, small.statements
    assert large.count == small.count, large.statements


async def test_post_list_with_authors_and_tags_costs_four_statements(
    author: Person, services: Services, count_statements: Any
) -> None:
    await add_writers(services, 5, 0)
    query = "{ posts(first: 50) { edges { node { id author { id email } tags { slug } } } } }"
    with count_statements() as counter:
        data = await data_of(author, query)
    assert len(data["posts"]["edges"]) == 5 * POSTS_PER_USER
    # Token check, the posts (with their total and their tags), their authors (one statement).
    assert counter.count == 3, counter.statements


async def test_post_authors_id_and_profile_come_with_the_posts(
    admin: Person, services: Services, count_statements: Any
) -> None:
    await add_writers(services, 3, 0)
    profile = "profile { firstName lastName avatarUrl bio }"
    query = (
        f"{{ posts(first: 50) {{ edges {{ node {{ author {{ __typename id {profile} }} }} }} }} }}"
    )
    with count_statements() as counter:
        data = await data_of(admin, query)
    # Token check, the posts (with their total and their tags): the post rows carry the author.
    assert counter.count == 2, counter.statements
    users = await data_of(admin, f"{{ users {{ edges {{ node {{ id {profile} }} }} }} }}")
    profiles = {edge["node"]["id"]: edge["node"]["profile"] for edge in users["users"]["edges"]}
    authors = [edge["node"]["author"] for edge in data["posts"]["edges"]]
    assert len(authors) == 3 * POSTS_PER_USER
    assert {a["profile"]["lastName"] for a in authors} == {"N0", "N1", "N2"}
    for written_by in authors:
        assert written_by["__typename"] == "User"
        assert written_by["profile"] == profiles[written_by["id"]]


async def test_any_other_author_field_or_a_fragment_loads_the_author(
    author: Person, services: Services, count_statements: Any
) -> None:
    await add_writers(services, 2, 0)
    for selection in (
        "id email",
        "id createdAt",
        "... on User { id }",
        "...Who",
    ):
        query = f"{{ posts(first: 50) {{ edges {{ node {{ author {{ {selection} }} }} }} }} }}"
        if "...Who" in selection:
            query += " fragment Who on User { id email }"
        with count_statements() as counter:
            data = await data_of(author, query)
        assert counter.count == 3, (selection, counter.statements)
        for edge in data["posts"]["edges"]:
            assert edge["node"]["author"]["id"]


async def test_each_place_of_an_answer_gets_the_author_it_asked_for(
    author: Person, services: Services
) -> None:
    """Two lists of the same posts, one asking the author's id, the other their creation time
    too: the second is answered in full, the first from the post rows."""
    await add_writers(services, 2, 0)
    query = (
        "{ short: posts(first: 50) { edges { node { author { id } } } }"
        " full: posts(first: 50) { edges { node { author { id createdAt } } } } }"
    )
    data = await data_of(author, query)
    short = [edge["node"]["author"] for edge in data["short"]["edges"]]
    full = [edge["node"]["author"] for edge in data["full"]["edges"]]
    assert short
    assert all(set(a) == {"id"} for a in short)
    assert [a["id"] for a in full] == [a["id"] for a in short]
    assert all(a["createdAt"] for a in full)
