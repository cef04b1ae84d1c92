"""The users suite shares the auth suite's guard: no reply may carry a password or a hash."""

from tests.auth.conftest import no_secret_in_any_reply

__all__ = ["no_secret_in_any_reply"]
