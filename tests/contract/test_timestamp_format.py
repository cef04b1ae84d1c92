"""Every timestamp the API writes is RFC 3339 in UTC, with six fractional digits and a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pressroom.kit.clock import rfc3339


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime(2026, 1, 31, 9, 30, 0, 123456, tzinfo=UTC), "2026-01-31T09:30:00.123456Z"),
        # A whole second still carries its six digits: clients parse one fixed shape.
        (datetime(2026, 1, 31, 9, 30, tzinfo=UTC), "2026-01-31T09:30:00.000000Z"),
        (
            datetime(2026, 1, 31, 11, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-31T09:30:00.000005Z",
        ),
        (datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), "0999-12-31T23:59:59.000000Z"),
        (None, None),
    ],
)
def test_timestamps_are_utc_with_microseconds_and_z(
    value: datetime | None, written: str | None
) -> None:
    assert rfc3339(value) == written
