"""How the schema executes: what the post list's cost depends on (docs/performance.md, (d))."""

from __future__ import annotations

from graphql import GraphQLObjectType

from pressroom.config import Settings
from pressroom.graphql.schema import build_schema


def test_plain_fields_are_read_by_attribute_without_strawberry_wrappers() -> None:
    schema = build_schema(Settings())
    post = schema._schema.type_map["Post"]
    assert isinstance(post, GraphQLObjectType)
    for name in ("id", "title", "content", "published", "publishedAt", "tags", "createdAt"):
        resolve = post.fields[name].resolve
        assert resolve is not None
        assert resolve.__qualname__ == "attribute_reader.<locals>.read", name
    # A field with a resolver function keeps Strawberry's wrapper (its `Info`, its arguments).
    resolve = post.fields["author"].resolve
    assert resolve is not None
    assert resolve.__qualname__ != "attribute_reader.<locals>.read"
