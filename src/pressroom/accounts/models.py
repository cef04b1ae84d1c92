"""The purposes a mailed token serves, and how long each lives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    CHANGE_EMAIL = "change_email"


LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=24),
    TokenPurpose.RESET_PASSWORD: timedelta(minutes=30),
    TokenPurpose.CHANGE_EMAIL: timedelta(hours=1),
}
# Where each token's link leads, under EMAIL_LINK_BASE_URL.
LINK_PATHS = {
    TokenPurpose.VERIFY_EMAIL: "/verify-email",
    TokenPurpose.RESET_PASSWORD: "/reset-password",
    TokenPurpose.CHANGE_EMAIL: "/confirm-email",
}


@dataclass(frozen=True, slots=True)
class RedeemedToken:
    user_id: int
    email: str
