"""Password hashing (argon2id, bcrypt still verified) and the password rules of SPEC §4."""

from __future__ import annotations

import asyncio
from functools import cache
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from pressroom.config import PasswordPolicyName

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane (~23 ms here).
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
MAX_PASSWORD_CHARS = 128
SEED_MIN_PASSWORD_CHARS = 8
NIST_MIN_PASSWORD_CHARS = 15


class PasswordHasher:
    """Hashes and verifies in worker threads so the event loop never waits on argon2."""

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

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """(matches, a re-hash to store when the stored one is bcrypt or has weaker params)."""
        self.verifications += 1
        if stored_hash is None:
            await asyncio.to_thread(self._hash.verify, password, self._dummy_hash)
            return False, None
        return await asyncio.to_thread(self._hash.verify_and_update, password, stored_hash)


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
