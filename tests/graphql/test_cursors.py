"""Cursors come back from clients: whatever they hold, a list answers a page or VALIDATION_ERROR.

A cursor names a sort key, a typed value and an id. A text value under a time key used to reach
the database layer and fail there (`'str' object has no attribute 'tzinfo'`, INTERNAL_ERROR).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pressroom.kit.cursors import KEY_KINDS, Position, decode_cursor, encode_cursor
from pressroom.kit.errors import ValidationFailed
from pressroom.kit.ids import MAX_ID
from tests.conftest import Person
from tests.graphql.conftest import error_codes, graphql
from tests.graphql.test_queries import publish


def forge(*parts: object) -> str:
    # The standard library's encoder: it writes what orjson refuses to (ints past 64 bits).
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


# Each list, with the key its cursors carry.
LISTS = [
    ("published_at", "{ posts(first: 3, after: $after) { totalCount edges { node { id } } } }"),
    ("created_at", "{ posts(first: 3, after: $after, filter: {published: false}) { totalCount } }"),
    ("created_at", "{ users(pagination: {first: 3, after: $after}) { totalCount } }"),
    ("created_at", "{ currentUser { posts(first: 3, after: $after) { totalCount } } }"),
    ("name", "{ tags(first: 3, after: $after) { totalCount edges { node { name } } } }"),
]
HOSTILE_VALUES = [
    ("s", "a\x00b"),  # NUL: PostgreSQL text cannot hold it
    ("t", "2026-01-01T00:00:00"),  # no time zone
    ("t", "0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
    ("t", "9999-12-31T23:59:59-14:00"),  # after year 9999 in UTC
    ("t", "2026-01-01T00:00:00+00:00\x00"),
    ("x", "zzz"),
    ("t", 5),
]
HOSTILE_IDS = [0, -1, MAX_ID + 1, 2**70, True, 1.5, "1"]


VALUES = {"t": "2026-01-01T00:00:00+00:00", "s": "zzz"}


def valid_value(key: str) -> str:
    return VALUES[KEY_KINDS[key]]


def hostile_cursors(list_key: str) -> list[str]:
    """Malformed cursors under every key, and well-formed ones of other lists."""
    made = ["\x00", "%%%", forge(list_key)]
    for key in KEY_KINDS:
        made += [forge(key, kind, value, 1) for kind, value in HOSTILE_VALUES]
        # The report: a value of the other type (text under a time key, and the reverse).
        other = "s" if KEY_KINDS[key] == "t" else "t"
        made.append(forge(key, other, VALUES[other], 1))
        made += [forge(key, KEY_KINDS[key], valid_value(key), item) for item in HOSTILE_IDS]
        if key != list_key:
            made.append(forge(key, KEY_KINDS[key], valid_value(key), 1))
    return made


def run(query: str) -> str:
    return "query($after: String) " + query


async def test_the_reported_forged_cursor_is_a_validation_error(
    anon: httpx.AsyncClient, author: Person
) -> None:
    await publish(author, "One")
    posts = run(LISTS[0][1])
    for cursor in (forge("published_at", "s", "zzz", 1), forge("published_at", "s", "\x00", 1)):
        body = await graphql(anon, posts, {"after": cursor})
        assert body["data"] is None
        assert error_codes(body) == ["VALIDATION_ERROR"], body
        assert body["errors"][0]["extensions"]["details"] == {
            "after": ["is not a cursor of this list"]
        }


async def test_no_cursor_of_any_key_or_type_fails_any_list(author: Person) -> None:
    await publish(author, "One", ["news"])
    for list_key, query in LISTS:
        for cursor in hostile_cursors(list_key):
            body = await graphql(author, run(query), {"after": cursor})
            assert error_codes(body) == ["VALIDATION_ERROR"], (query, cursor, body)


@given(
    name=st.one_of(st.sampled_from(sorted(KEY_KINDS)), st.text(max_size=12)),
    kind=st.one_of(st.sampled_from(["t", "s"]), st.text(max_size=2), st.integers()),
    value=st.one_of(
        st.text(max_size=40),
        st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
        st.datetimes().map(datetime.isoformat),
        st.integers(),
        st.none(),
    ),
    item=st.one_of(st.integers(min_value=-(2**64), max_value=2**64), st.booleans(), st.floats()),
)
@settings(max_examples=400, deadline=None)
def test_whatever_a_cursor_holds_it_decodes_to_a_typed_position_or_is_refused(
    name: Any, kind: Any, value: Any, item: Any
) -> None:
    try:
        position = decode_cursor(forge(name, kind, value, item))
    except ValidationFailed:
        return
    # What the database layer receives: the type of the key, bounded, no NUL, aware UTC.
    assert KEY_KINDS[position.key] == ("t" if isinstance(position.value, datetime) else "s")
    assert isinstance(position.id, int)
    assert 1 <= position.id <= MAX_ID
    if isinstance(position.value, datetime):
        assert position.value.utcoffset() is not None
        assert position.value.tzinfo == UTC
    else:
        assert "\x00" not in position.value
    assert decode_cursor(encode_cursor(position)) == position


@given(
    key=st.sampled_from(sorted(KEY_KINDS)),
    moment=st.datetimes(timezones=st.just(UTC)),
    text=st.text(max_size=40).filter(lambda t: "\x00" not in t),
    item=st.integers(min_value=1, max_value=MAX_ID),
)
def test_every_cursor_the_service_makes_decodes_to_its_position(
    key: str, moment: datetime, text: str, item: int
) -> None:
    position = Position(key, moment if KEY_KINDS[key] == "t" else text, item)
    cursor = encode_cursor(position)
    if len(cursor) <= 200:
        assert decode_cursor(cursor) == position


@pytest.mark.parametrize("cursor", ["", "=", "e30", "W10", "bnVsbA"])
def test_empty_and_trivial_json_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor)
