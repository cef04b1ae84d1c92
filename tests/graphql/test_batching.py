"""DataLoaders: a nested query costs one SQL statement per level, whatever the list sizes."""

from __future__ import annotations

from typing import Any

from pressroom.auth.actor import Actor
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
    for n in range(start, start + count):
        view = await services.users.sign_up(
            CreateUserRequest.model_validate(
                {
                    "email": f"writer{n}@example.com",
                    "password": PASSWORD,
                    "profile": {"firstName": "Writer", "lastName": f"N{n}"},
                }
            )
        )
        writer = Actor.signed_in(view.user.id, 0, view.user.email, view.user.roles)
        for p in range(POSTS_PER_USER):
            await services.posts.create(
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
    # Token check, the posts (with their total), their tags, their authors (one statement).
    assert counter.count <= 4, counter.statements
