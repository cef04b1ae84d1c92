"""What a GraphQL operation must pass before any resolver runs, and how errors leave.

In order (credentials are checked before, by the context getter): size in bytes, tokens (parser),
depth, aliases and introspection (validation rules, cached with the parsed document), then
which operation runs, every `first` against its bound, with the operation's variables, the
operation's worst-case cost (cost.py) against GRAPHQL_MAX_COST, and that cost spent from the
caller's node allowances. A database failure becomes the refusal it stands for (503 for an
outage, as in REST); other errors that are not ours are masked and logged; no stack, SQL or
file path reaches a client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionNode,
    value_from_ast_untyped,
)
from graphql.validation import ASTValidationContext
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from pressroom.config import Settings
from pressroom.graphql.context import Context
from pressroom.graphql.cost import cost_schema, operation_cost, operations, selected_operation
from pressroom.graphql.errors import PublicError, public_error, report_refusal
from pressroom.kit.cursors import MAX_SLICE_SIZE
from pressroom.kit.errors import RateLimited
from pressroom.kit.http_errors import database_failure
from pressroom.kit.observability import get_logger

log = get_logger("pressroom.graphql")
UNEXPECTED = "An unexpected error occurred"
INVALID_QUERY_CODE = "GRAPHQL_VALIDATION_FAILED"


def validation_rules(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    """Built once per schema: the same rule classes every request, so validation results can
    be cached per document."""
    rules: list[type[ASTValidationRule]] = [
        shape_rule(settings.graphql_max_depth, settings.graphql_max_aliases)
    ]
    if not settings.allow_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def shape_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """Depth and aliases, with the messages of Strawberry's rules, which expand every
    fragment spread: twenty fragments that each spread the next twice (1 KB) kept them busy
    for 5.7 s of CPU, each doubling twice that. Here each fragment is measured once."""

    class DocumentShape(ASTValidationRule):
        def __init__(self, context: ASTValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            measured: dict[str, tuple[int, int]] = {}
            aliases = 0
            for operation in operations(document):
                deepest, found = _shape(operation.selection_set.selections, fragments, measured)
                aliases += found
                if deepest > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = f"'{name}' exceeds maximum operation depth of {max_depth}"
                    context.report_error(GraphQLError(message, operation))
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return DocumentShape


def _shape(
    selections: Sequence[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    measured: dict[str, tuple[int, int]],
) -> tuple[int, int]:
    """The deepest field's level below `selections` (0 for their own fields, -1 for none) and
    the aliases they hold, fragments as spread. Introspection fields read the schema, never
    the database, and its standard query nests deeper than any data query needs: what is
    under them is left to the introspection switch, not the depth limit."""
    deepest, aliases = -1, 0
    for node in selections:
        if isinstance(node, FieldNode):
            aliases += node.alias is not None
            level = 0
            if node.selection_set is not None:
                below, found = _shape(node.selection_set.selections, fragments, measured)
                aliases += found
                if below >= 0 and not node.name.value.startswith("__"):
                    level = 1 + below
            deepest = max(deepest, level)
            continue
        if isinstance(node, InlineFragmentNode):
            below, found = _shape(node.selection_set.selections, fragments, measured)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is None or measured.get(name) == _MEASURING:
                continue  # unknown or cyclic: refused by the standard rules
            if name not in measured:
                measured[name] = _MEASURING
                measured[name] = _shape(fragment.selection_set.selections, fragments, measured)
            below, found = measured[name]
        else:
            continue
        deepest, aliases = max(deepest, below), aliases + found
    return deepest, aliases


# Marks a fragment while its own selections are measured (a spread of it there is a cycle).
_MEASURING = (-2, -2)


class OperationLimits(SchemaExtension):
    """The limits above, and the shaping of errors below, as one extension: Strawberry looks up
    and enters every extension's hooks on every request, so one extension with three hooks
    costs less than five with one each."""

    def __init__(
        self,
        *,
        max_bytes: int,
        max_tokens: int,
        max_cost: int,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> None:
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield
        # Our errors keep their message and code; anything else becomes a generic message.
        result = context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            response = getattr(context.context, "response", None)
            result.errors = [shape_error(error, response) for error in errors]

    def on_parse(self) -> Iterator[None]:
        """Documents over the byte budget are refused before they are parsed."""
        size = len((self.execution_context.query or "").encode())
        if size > self.max_bytes:
            raise PublicError(
                f"Query is {size} bytes; at most {self.max_bytes} are allowed", "QUERY_TOO_LARGE"
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        """After validation, before any resolver: which operation runs, every `first` (and
        `pagination.first`) within 0..100, the operation's cost within the budget, and that
        cost spent from the caller's allowance."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            operation = self.operation(document)
            variables = context.variables or {}
            for value in requested_sizes(document, variables):
                if isinstance(value, int) and not 0 <= value <= MAX_SLICE_SIZE:
                    raise PublicError(
                        f"`first` must be between 0 and {MAX_SLICE_SIZE}; got {value}",
                        "VALIDATION_ERROR",
                        {"first": [f"must be between 0 and {MAX_SLICE_SIZE}"]},
                    )
            cost = operation_cost(cost_schema(context.schema), document, operation, variables)
            if cost > self.max_cost:
                raise PublicError(
                    f"Query cost {cost} exceeds the limit of {self.max_cost}; ask for smaller"
                    " pages (`first`) or fewer nested lists",
                    "QUERY_TOO_COMPLEX",
                    cost=cost,
                    maxCost=self.max_cost,
                )
            if isinstance(context.context, Context):
                await spend(context.context, cost)
        yield

    def operation(self, document: DocumentNode) -> OperationDefinitionNode:
        """Strawberry runs the first operation when a document holds several and the request
        names none; the GraphQL spec (6.1, GetOperation) requires an error. (An unknown name
        is refused by Strawberry before this runs.)"""
        operation = selected_operation(document, requested_operation.get())
        if operation is None:
            raise PublicError(
                "Must provide operation name if query contains multiple operations",
                INVALID_QUERY_CODE,
            )
        return operation


# The operation name the request sent (set by the schema's `execute`, see graphql/schema.py),
# not Strawberry's `operation_name`, which falls back to the first operation's.
requested_operation: ContextVar[str | None] = ContextVar("requested_operation", default=None)


async def spend(context: Context, cost: int) -> None:
    """The operation's cost from the per-address and per-user node allowances (429 once
    spent, as for every other rate limit)."""
    limits = context.services.limits
    try:
        await limits.hit(
            limits.policies.graphql_cost_per_address, context.client.address, cost=cost
        )
        if context.actor.user_id is not None:
            await limits.hit(
                limits.policies.graphql_cost_per_user, str(context.actor.user_id), cost=cost
            )
    except RateLimited as error:
        report_refusal(error, context.response)
        raise public_error(error) from None


def requested_sizes(document: DocumentNode, variables: dict[str, Any]) -> list[Any]:
    """The `first` and `pagination.first` arguments of every field, fragments included, in
    document order. A walk of the selection sets alone: graphql-core's generic `visit` of
    every node took 75 µs a request for the post list, this 3 µs."""
    values: list[Any] = []
    pending: list[SelectionNode] = [
        selection
        for definition in reversed(document.definitions)
        if isinstance(definition, ExecutableDefinitionNode)
        for selection in reversed(definition.selection_set.selections)
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                name = argument.name.value
                if name == "first":
                    values.append(value_from_ast_untyped(argument.value, variables))
                elif name == "pagination":
                    value = value_from_ast_untyped(argument.value, variables)
                    if isinstance(value, dict):
                        values.append(value.get("first"))
        if isinstance(node, FieldNode | InlineFragmentNode) and node.selection_set is not None:
            pending.extend(reversed(node.selection_set.selections))
    return values


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError)
        and database_failure(original) is None
    )


def shape_error(error: GraphQLError, response: Response | None = None) -> GraphQLError:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        refusal = database_failure(original)
        if refusal is not None:
            report_refusal(refusal, response)
            shaped = public_error(refusal)
            return GraphQLError(
                shaped.message, error.nodes, path=error.path, extensions=shaped.extensions
            )
        return GraphQLError(
            UNEXPECTED,
            error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR"},
        )
    if not (error.extensions or {}).get("code"):
        return GraphQLError(
            error.message,
            error.nodes,
            path=error.path,
            extensions={**(error.extensions or {}), "code": INVALID_QUERY_CODE},
        )
    return error
