"""The committed SDL is the schema the code serves; changing one without the other fails."""

from __future__ import annotations

from typer.testing import CliRunner

from pressroom.cli import app
from pressroom.graphql.schema import SDL_FILE, sdl

REGENERATE = "run: .venv/bin/pressroom graphql-schema > src/pressroom/graphql/schema.graphql"


def test_committed_schema_matches_the_served_schema() -> None:
    assert SDL_FILE.read_text() == sdl(), REGENERATE


def test_graphql_schema_command_prints_the_committed_sdl() -> None:
    result = CliRunner().invoke(app, ["graphql-schema"])
    assert result.exit_code == 0, result.output
    assert result.output == SDL_FILE.read_text()


def test_schema_keeps_the_seeds_names() -> None:
    text = SDL_FILE.read_text()
    for line in (
        "user(id: ID!): User",
        "users(filter: UserFilter = null, pagination: PaginationInput = null): UserConnection!",
        "currentUser: User",
        "createUser(input: CreateUserInput!): CreateUserPayload!",
        "updateUser(id: ID!, input: UpdateUserInput!): UpdateUserPayload!",
        "deleteUser(id: ID!): DeleteUserPayload!",
        "posts(first: Int = 20, after: String = null): PostConnection!",
        "errors: [UserError!]",
        "email: String\n",
    ):
        assert line in text, line
