"""Request bodies and the one reply shape of accounts by email."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pressroom.kit.validation import InputModel
from pressroom.users.schemas import MAX_PASSWORD_INPUT_CHARS, EmailAddress

# Mailed tokens are 43 characters; a longer one is not ours, and is refused before any work.
MAX_EMAIL_TOKEN_CHARS = 256


class TokenRequest(InputModel):
    token: str = Field(min_length=1, max_length=MAX_EMAIL_TOKEN_CHARS)


class PasswordResetRequest(InputModel):
    email: str = Field(min_length=1, max_length=320)


class PasswordResetConfirmation(InputModel):
    token: str = Field(min_length=1, max_length=MAX_EMAIL_TOKEN_CHARS)
    new_password: str = Field(max_length=MAX_PASSWORD_INPUT_CHARS)


class EmailChangeRequest(InputModel):
    new_email: EmailAddress
    current_password: str = Field(max_length=MAX_PASSWORD_INPUT_CHARS)


class Accepted(BaseModel):
    message: str


VERIFICATION_QUEUED = "A verification mail is on its way"
RESET_QUEUED = "If an account has this address, a password reset mail is on its way"
EMAIL_CHANGE_QUEUED = "A confirmation mail is on its way to the new address"
