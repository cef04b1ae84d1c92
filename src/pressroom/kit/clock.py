"""The current time, in one place, always aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(value: datetime | None) -> str | None:
    """RFC 3339 UTC with a `Z`, the only timestamp format the API speaks."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is C all the way and 40% cheaper than strftime (a post list formats 60 of
    # these); its year is always four digits, so the first 26 characters are the whole time.
    return value.isoformat(timespec="microseconds")[:26] + "Z"
