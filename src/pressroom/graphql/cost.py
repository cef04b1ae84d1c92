"""The worst-case size of a GraphQL operation, computed from its selection set before it runs.

Depth, alias and size limits bound the text of a query, not the work it asks for: fifteen
aliases of three nested 100-post pages fit in 2 KB and ask for millions of objects. The cost
of an operation is the number of values its answer could hold at most: every field counts
one each time it can appear, a connection's edges count as its `first` (or the default page
size), and lists without a page argument (a post's tags) count as their own upper bound.
Aliases count once each, fragments (named and inline) where they are spread, variables as
sent (or their declared defaults).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    Undefined,
    build_schema,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)

if TYPE_CHECKING:  # graphql-core 3.3 and later
    from graphql import GraphQLDefaultInput

from pressroom.kit.cursors import DEFAULT_SLICE_SIZE, MAX_SLICE_SIZE
from pressroom.posts.schemas import MAX_TAGS_PER_POST

# Lists that take no page argument, by (type, field): the most items one can hold.
LIST_BOUNDS: Mapping[tuple[str, str], int] = {("Post", "tags"): MAX_TAGS_PER_POST}
# A list of objects this module has no bound for counts as a full page: an overestimate is a
# refusal someone reports, an underestimate is an outage nobody sees coming.
UNKNOWN_LIST_BOUND = MAX_SLICE_SIZE


_SCHEMAS: WeakKeyDictionary[strawberry.Schema, GraphQLSchema] = WeakKeyDictionary()


def cost_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The types and fields the cost is counted over, built once per schema from its public
    SDL (Strawberry keeps its own graphql-core schema private)."""
    built = _SCHEMAS.get(schema)
    if built is None:
        built = _SCHEMAS[schema] = build_schema(schema.as_str())
    return built


def default_of(argument: GraphQLArgument) -> Any:
    """An argument's default: graphql-core 3.3 keeps a default read from SDL as its literal
    (`default`); 3.2 had only the coerced `default_value`."""
    default: GraphQLDefaultInput | None = getattr(argument, "default", None)
    if default is not None and default.literal:
        return value_from_ast_untyped(default.literal)
    return default.value if default is not None else argument.default_value


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def selected_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation a request runs: the one named, or the only one (None when ambiguous)."""
    found = operations(document)
    if operation_name is None:
        return found[0] if len(found) == 1 else None
    for operation in found:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> int:
    """The worst-case number of values the operation's answer holds (validated documents)."""
    resolved = dict(_declared_defaults(operation))
    resolved.update(variables)
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Counter(schema, fragments, resolved).selections(
        root, operation.selection_set.selections, None
    )


def _declared_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    return {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        # A fragment's cost depends only on where it is spread (type, page in force): counted
        # once, so fragments spreading fragments cannot make the count itself exponential.
        self.spread_costs: dict[tuple[str, str, int | None], int] = {}

    def selections(
        self, parent: GraphQLNamedType, nodes: Sequence[SelectionNode], page: int | None
    ) -> int:
        total = 0
        for node in nodes:
            if isinstance(node, FieldNode):
                total += self.field(parent, node, page)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(target or parent, node.selection_set.selections, page)
            elif isinstance(node, FragmentSpreadNode):
                total += self.spread(parent, node.name.value, page)
        return total

    def spread(self, parent: GraphQLNamedType, name: str, page: int | None) -> int:
        key = (name, parent.name, page)
        if key not in self.spread_costs:
            fragment = self.fragments.get(name)
            self.spread_costs[key] = 0  # a cycle (refused by validation) adds nothing
            if fragment is not None:
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.spread_costs[key] = self.selections(
                    target, fragment.selection_set.selections, page
                )
        return self.spread_costs[key]

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None) -> int:
        name = node.name.value
        definition = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        # Introspection answers from the schema, bounded by its size; it has its own switch.
        if name.startswith("__") or definition is None or node.selection_set is None:
            return 1
        count = 1
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            count = (
                page
                if page is not None
                else LIST_BOUNDS.get((parent.name, name), UNKNOWN_LIST_BOUND)
            )
        inner = self.selections(
            get_named_type(definition.type),
            node.selection_set.selections,
            self.page_size(node, definition),
        )
        return count * (1 + inner)

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The page a connection field asks for (`first` or `pagination.first`), None for any
        other field. Out-of-range sizes are refused before this runs; clamped regardless."""
        if "first" in definition.args:
            value = self.argument(node, "first")
            if value is Undefined:
                value = default_of(definition.args["first"])
        elif "pagination" in definition.args:
            pagination = self.argument(node, "pagination")
            value = pagination.get("first") if isinstance(pagination, dict) else None
        else:
            return None
        if value is None or value is Undefined:
            return DEFAULT_SLICE_SIZE
        # graphql-core takes 100.0 for an Int; any other value it refuses after this runs,
        # so the worst case is the only safe reading.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_SLICE_SIZE
        return min(max(value, 0), MAX_SLICE_SIZE)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return Undefined
