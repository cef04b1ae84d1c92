"""Schemathesis against the app's own OpenAPI document and GraphQL schema (OWASP API9, ASVS
V15): every operation, schema-valid and schema-invalid data, a fixed seed and a bounded number
of examples, in-process on SQLite and PostgreSQL.

A failure names the operation and the check; fix the app (a status the route can answer goes
into its `errors(...)`, or the behaviour is wrong), never the check. `make fuzz` runs the same
against a real server for minutes instead of seconds.

Driven through `operation.as_strategy()` (tests/security/fuzzing.py) rather than
`schema.parametrize()`: schemathesis' pytest fixture loader does not run under pytest 9, and
this way the app uses the suite's own database fixture.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi

from pressroom.app import create_app
from tests.conftest import PASSWORD, empty_tables, make_settings
from tests.security.fuzzing import (
    FUZZ_ADMIN_EMAIL,
    FUZZ_CONFIG,
    create_fuzz_admin,
    fuzz,
    graphql_checks,
    needs_admin,
    openapi_checks,
)

EXAMPLES_PER_OPERATION = 8
GRAPHQL_EXAMPLES_PER_FIELD = 8
_accounts = itertools.count(1)


@pytest.fixture(scope="module")
def fuzzed_app(database_url: str) -> Any:
    """An app of its own: schemathesis runs ASGI apps in its own event-loop thread, so nothing
    here may keep a connection opened on pytest's loop."""
    # No delivery sender: the fuzzer registers webhooks at made-up (public) URLs.
    app = create_app(make_settings(database_url, webhook_delivery_in_process=False))
    services = app.state.services

    async def prepare() -> None:
        await empty_tables(services)
        await services.db.dispose()

    asyncio.run(prepare())
    create_fuzz_admin(database_url)
    return app


def in_process_bearer(app: Any, label: str) -> dict[str, str]:
    """A new account's token, or for the operations only administrators reach a new session of
    the fuzz administrator."""
    with asgi.get_client(app) as client:
        if needs_admin(label):
            email = FUZZ_ADMIN_EMAIL
        else:
            email = f"fuzz{next(_accounts)}@example.com"
            profile = {"firstName": "F", "lastName": "Z"}
            client.post(
                f"http://{asgi.HOST}/api/v1/users",
                json={"email": email, "password": PASSWORD, "profile": profile},
            )
        tokens = client.post(
            f"http://{asgi.HOST}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


# One test per group keeps each under the suite's time budget per test.
OPENAPI_GROUPS = (
    "GET /api/v1/users",
    "POST /api/v1/users",
    "PATCH /api/v1/users",
    "DELETE /api/v1/users",
    "POST /api/v1/auth",
    "GET /api/v1/posts",
    "POST /api/v1/posts",
    "PATCH /api/v1/posts",
    "DELETE /api/v1/posts",
    "GET /api/v1/tags",
    "PATCH /api/v1/tags",
    "DELETE /api/v1/tags",
    "GET /api/v1/webhooks",
    "POST /api/v1/webhooks",
    "PATCH /api/v1/webhooks",
    "DELETE /api/v1/webhooks",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
)


@pytest.mark.parametrize("group", OPENAPI_GROUPS)
def test_every_operation_conforms_to_the_openapi_document(fuzzed_app: Any, group: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=FUZZ_CONFIG)
    failures = fuzz(
        schema,
        lambda label: in_process_bearer(fuzzed_app, label),
        EXAMPLES_PER_OPERATION,
        label_prefix=group,
    )
    assert failures == []


def test_the_groups_cover_every_operation(fuzzed_app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=FUZZ_CONFIG)
    labels = [result.ok().label for result in schema.get_all_operations()]
    assert [label for label in labels if not label.startswith(OPENAPI_GROUPS)] == []


@pytest.mark.parametrize("root", ["Query.", "Mutation."])
def test_every_graphql_field_answers_without_internal_errors(fuzzed_app: Any, root: str) -> None:
    """Generated queries and mutations over the whole GraphQL schema."""
    schema = schemathesis.graphql.from_asgi("/graphql", fuzzed_app, config=FUZZ_CONFIG)
    failures = fuzz(
        schema,
        lambda label: in_process_bearer(fuzzed_app, label),
        GRAPHQL_EXAMPLES_PER_FIELD,
        modes=(GenerationMode.POSITIVE,),
        check=graphql_checks,
        label_prefix=root,
    )
    assert failures == []


def test_a_read_revalidated_with_a_star_passes_every_check(fuzzed_app: Any) -> None:
    """`make fuzz` found: `If-None-Match: *` on a read is answered 304 (right: a current
    representation exists), which the positive-data check refused until it was configured."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=FUZZ_CONFIG)
    operation = schema["/api/v1/tags"]["GET"]
    statuses: list[int] = []

    @settings(max_examples=1, deadline=None, database=None)
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def revalidate(case: Any) -> None:
        case.headers = {**(case.headers or {}), "If-None-Match": "*"}
        case.query = {}
        openapi_checks(case, {})
        statuses.append(case.call().status_code)

    revalidate()
    assert statuses == [304]
