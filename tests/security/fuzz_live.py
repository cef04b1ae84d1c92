"""`make fuzz`: schemathesis against a real `pressroom serve` on SQLite, for a time budget per
schema (5 minutes by default), round after round with a new seed until the budget is spent.

    .venv/bin/python -m tests.security.fuzz_live [--seconds-per-schema 300]

Exits 1 and prints every finding if any round found one.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from schemathesis import GenerationMode

from pressroom.events.models import EventType
from tests.conftest import PASSWORD
from tests.security.fuzzing import (
    FUZZ_ADMIN_EMAIL,
    FUZZ_CONFIG,
    FUZZ_SEED,
    fuzz,
    graphql_checks,
    needs_admin,
    openapi_checks,
    serving,
)

EXAMPLES_PER_ROUND = 50
_accounts = itertools.count(1)


def live_bearer(base: str, label: str) -> dict[str, str]:
    """A new account's token, or for the operations only administrators reach a new session of
    the fuzz administrator."""
    if needs_admin(label):
        email = FUZZ_ADMIN_EMAIL
    else:
        email = f"live-fuzz{next(_accounts)}@example.com"
        profile = {"firstName": "F", "lastName": "Z"}
        httpx.post(
            f"{base}/api/v1/users",
            json={"email": email, "password": PASSWORD, "profile": profile},
        )
    tokens = httpx.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ).json()
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def register_webhook(base: str) -> None:
    """One webhook subscribed to every event, with a delivery waiting (a user signs up), so the
    webhook routes that take an id find one: the fuzzer's own URLs rarely pass the checks. Its
    URL is a public address literal, so no name is looked up; nothing is sent (OFFLINE)."""
    admin = live_bearer(base, "POST /api/v1/webhooks")
    created = httpx.post(
        f"{base}/api/v1/webhooks",
        json={"url": "https://93.184.215.14/fuzz-receiver", "events": [e.value for e in EventType]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    live_bearer(base, "a sign-up whose user.created event makes the delivery")


def fuzz_for(
    name: str,
    load: Callable[[], Any],
    base: str,
    seconds: float,
    modes: tuple[GenerationMode, ...],
    check: Callable[[Any, dict[str, str]], None],
) -> list[str]:
    deadline = time.monotonic() + seconds
    findings: list[str] = []
    for round_number in itertools.count():
        if time.monotonic() >= deadline:
            break
        started = time.monotonic()
        found = fuzz(
            load(),
            lambda label: live_bearer(base, label),
            EXAMPLES_PER_ROUND,
            modes=modes,
            check=check,
            fuzz_seed=FUZZ_SEED + round_number,
        )
        findings += [f"{name} round {round_number}: {line}" for line in found]
        print(
            f"{name}: round {round_number} (seed {FUZZ_SEED + round_number}) "
            f"{len(found)} finding(s) in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-schema", type=float, default=300)
    args = parser.parse_args()
    # A fuzzer signs up an account per operation from one address; limits would stop it.
    with serving(RATE_LIMITS_ENABLED="false") as base:
        register_webhook(base)
        findings = fuzz_for(
            "openapi",
            lambda: schemathesis.openapi.from_url(f"{base}/openapi.json", config=FUZZ_CONFIG),
            base,
            args.seconds_per_schema,
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
            openapi_checks,
        )
        findings += fuzz_for(
            "graphql",
            lambda: schemathesis.graphql.from_url(f"{base}/graphql", config=FUZZ_CONFIG),
            base,
            args.seconds_per_schema,
            (GenerationMode.POSITIVE,),
            graphql_checks,
        )
    for line in findings:
        print(line)
    print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
