"""Schemathesis driven from Python, shared by the in-process tests (test_fuzz_openapi.py) and
`make fuzz` (fuzz_live.py): every operation of a schema, a seed, a bounded number of examples,
and the findings as one line each."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from pressroom.db.migrate import migrate
from tests.conftest import PASSWORD
from tests.operations.processes import running_server

FUZZ_SEED = 20261126
FUZZ_CONFIG = SchemathesisConfig.from_str(
    (Path(__file__).parents[2] / "schemathesis.toml").read_text()
)
BOTH_MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Every code but INTERNAL_ERROR: an unexpected failure is a finding.
GRAPHQL_ERROR_CODES = {
    "VALIDATION_ERROR",
    "AUTHENTICATION_ERROR",
    "AUTHORIZATION_ERROR",
    "NOT_FOUND",
    "CONFLICT",
    "UNPROCESSABLE_ENTITY",
    "RATE_LIMITED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX",  # a generated query nesting 100-item pages: refused by its cost
}
# What a leaked internal looks like: a traceback, a source path, SQL, a driver's name.
LEAK = re.compile(
    r"Traceback|File \"|\.py\b|/work/|/usr/|site-packages|sqlalchemy|asyncpg|aiosqlite|sqlite3"
    r"|SELECT |INSERT |UPDATE |DELETE FROM|psycopg|pydantic|errors\.pydantic\.dev|Exception",
    re.IGNORECASE,
)
Check = Callable[[Any, dict[str, str]], None]
# The operations only a `users:manage` holder reaches: fuzzed with an administrator's token, or
# every case would stop at the permission check (403) and the routes behind it go untested.
ADMIN_ONLY = ("/api/v1/webhooks",)
FUZZ_ADMIN_EMAIL = "fuzz-admin@example.com"


def needs_admin(label: str) -> bool:
    """Whether the operation `label` ("POST /api/v1/webhooks/{webhook_id}") is one of ADMIN_ONLY."""
    path = label.split(" ", 1)[-1]
    return path.startswith(ADMIN_ONLY)


def create_fuzz_admin(database_url: str) -> None:
    """The administrator whose token fuzzes ADMIN_ONLY, made as an operator makes the first one
    (`pressroom users create`), on the database the fuzzed server or app will use."""
    from tests.cli.running import pressroom

    made = pressroom(
        "users",
        "create",
        "--email",
        FUZZ_ADMIN_EMAIL,
        "--password",
        PASSWORD,
        "--role",
        "admin",
        DATABASE_URL=database_url,
    )
    assert made.returncode == 0, made.stderr


def openapi_checks(case: Any, headers: dict[str, str]) -> None:
    """Every check schemathesis runs on a response, with schemathesis.toml's settings.

    A case whose headers were generated to break the document (no `Authorization` where the
    bearer scheme requires one, or a malformed one) goes out as generated: the account's token
    added here would undo the very violation the case is about."""
    components = case.meta.components if case.meta is not None else {}
    header_info = components.get(ParameterLocation.HEADER)
    if header_info is not None and header_info.mode is GenerationMode.NEGATIVE:
        headers = {}
    case.call_and_validate(headers=headers)


def graphql_checks(case: Any, headers: dict[str, str]) -> None:
    """No 5xx, no unexpected error, no internals in any message; errors carry a known code.

    Schemathesis' own GraphQL checks count every entry in `errors` as a failure, but this door
    answers a bad argument of a query (an id that is no id, a cursor of another list, `first`
    out of range) with a VALIDATION_ERROR entry by design, so those are checked here instead.
    """
    response = case.call(headers=headers)
    assert response.status_code < 500, response.text[:300]
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in GRAPHQL_ERROR_CODES, error
        assert not LEAK.search(error.get("message", "")), error


def fuzz(
    schema: Any,
    bearer: Callable[[str], dict[str, str]],
    examples: int,
    *,
    modes: tuple[GenerationMode, ...] = BOTH_MODES,
    check: Check = openapi_checks,
    fuzz_seed: int = FUZZ_SEED,
    label_prefix: str = "",
) -> list[str]:
    """Every operation (whose label starts with `label_prefix`) in each mode, each with a fresh
    session (the fuzzer deletes accounts and ends sessions as it goes): `bearer(label)` gives
    its headers. The failures, one line each."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last (a stable sort): the resources made for the fuzzer (the webhook, say) are
    # then still there for the operations on them.
    operations.sort(key=lambda operation: operation.label.startswith("DELETE "))
    for operation in operations:
        if not operation.label.startswith(label_prefix):
            continue
        headers = bearer(operation.label)
        for mode in modes:
            failure = _fuzz_operation(operation, mode, headers, examples, check, fuzz_seed)
            if failure is not None:
                failures.append(f"{operation.label} [{mode.value}]: {failure}")
    return failures


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    examples: int,
    check: Check,
    fuzz_seed: int,
) -> str | None:
    @seed(fuzz_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        check(case, headers)

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to generate, e.g. no invalid form of a request without inputs
    except (Exception, BaseExceptionGroup) as error:
        return " ".join(str(error).split())[:600]
    return None


# Webhook endpoints registered by the fuzzer name whatever URLs it made up, public ones included
# (the SSRF guard refuses only non-public addresses): nothing may be sent to them. Deliveries
# are background jobs, which `serve` on SQLite runs itself, so the server runs no job worker:
# jobs are written and stay queued. (Registration still asks the system resolver for a name's
# addresses.)
OFFLINE = {"WORKER_IN_PROCESS": "false"}


@contextmanager
def serving(**settings: str) -> Iterator[str]:
    """The base URL of a real `pressroom serve` on a fresh, migrated SQLite file, with the
    fuzz administrator made and no job worker, so no webhook delivery (OFFLINE)."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'live.db'}"
        migrate(url)
        create_fuzz_admin(url)
        with running_server(Path(directory), DATABASE_URL=url, **OFFLINE, **settings) as server:
            yield server.url
