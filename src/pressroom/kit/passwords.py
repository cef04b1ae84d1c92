"""Password hashing (argon2id, bcrypt still verified) and the password rules of docs/api.md."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from pressroom.config import PasswordPolicyName

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane (~23 ms here).
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
MAX_PASSWORD_CHARS = 128
SEED_MIN_PASSWORD_CHARS = 8
NIST_MIN_PASSWORD_CHARS = 15
HASHING_NICE = 10


def _yield_to_requests() -> None:
    # Linux gives each thread its own nice value; elsewhere hashing keeps normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


class NoConnectionHeld:
    """Proof, for the length of one block, that the caller holds no pooled connection.

    `UnitOfWork.released()` (db/units.py) makes one after giving its connection back, and ends
    it when the block ends; `PasswordHasher` hashes only with a live one. So a service cannot
    hash while it holds a connection: the hash needs an argument only that block provides.
    """

    __slots__ = ("_live",)

    def __init__(self) -> None:
        self._live = True

    def end(self) -> None:
        self._live = False

    def require_live(self) -> None:
        if not self._live:
            raise RuntimeError("hashing outside the released() block that gave this proof")


class PasswordHasher:
    """Hashes and verifies off the event loop, in one thread per process at a lower priority.

    A hash is the one heavy piece of CPU work here (~23 ms against ~1.5 ms for a whole post list).
    In the shared thread pool, sign-ins hashed up to six at a time per worker and a list's p99
    rose 2.7x with 20 sign-ins a second (scenario (f), docs/performance.md). One thread at nice
    10 hashes with the CPU that requests leave idle; when requests use all of it, sign-ins wait.
    """

    def __init__(self) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=ARGON2_TIME_COST,
                    memory_cost=ARGON2_MEMORY_KIB,
                    parallelism=ARGON2_PARALLELISM,
                ),
                BcryptHasher(),
            )
        )
        # Verified against when the email is unknown, so both paths do the same hash work.
        self._dummy_hash = self._hash.hash("pressroom-timing-equaliser")
        self.verifications = 0
        self._threads: ThreadPoolExecutor | None = None

    async def _off_the_loop(self, work: Callable[..., T], *args: Any) -> T:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="password-hash", initializer=_yield_to_requests
            )
        return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)

    def close(self) -> None:
        """Ends the hashing thread; an app served again (a new lifespan) starts a new one."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)

    async def hash(self, no_connection: NoConnectionHeld, password: str) -> str:
        no_connection.require_live()
        return await self._off_the_loop(self._hash.hash, password)

    async def verify(
        self, no_connection: NoConnectionHeld, password: str, stored_hash: str | None
    ) -> tuple[bool, str | None]:
        """(matches, a re-hash to store when the stored one is bcrypt or has weaker params)."""
        no_connection.require_live()
        self.verifications += 1
        if stored_hash is None:
            await self._off_the_loop(self._hash.verify, password, self._dummy_hash)
            return False, None
        return await self._off_the_loop(self._hash.verify_and_update, password, stored_hash)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("pressroom.kit").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("# "))


def password_problems(password: str, policy: PasswordPolicyName) -> list[str]:
    """What is wrong with a new password under the policy; empty when it is acceptable."""
    minimum = (
        NIST_MIN_PASSWORD_CHARS if policy is PasswordPolicyName.NIST else (SEED_MIN_PASSWORD_CHARS)
    )
    problems: list[str] = []
    if len(password) < minimum:
        problems.append(f"must be at least {minimum} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append(f"must be at most {MAX_PASSWORD_CHARS} characters")
    if policy is PasswordPolicyName.SEED:
        if not any(c.islower() for c in password):
            problems.append("must contain a lower-case letter")
        if not any(c.isupper() for c in password):
            problems.append("must contain an upper-case letter")
        if not any(c.isdigit() for c in password):
            problems.append("must contain a digit")
    if password.lower() in common_passwords():
        problems.append("is too common; choose one that is not on lists of leaked passwords")
    return problems
