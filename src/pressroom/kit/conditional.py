"""Entity tags and conditional requests (RFC 9110 §8.8.3 and §13).

A tag is a hash of the bytes a reply sends (`kit.output.json_bytes`, the one renderer of every
response body), so it is strong by construction and needs no column to keep: two replies have
one tag exactly when they are byte for byte the same.
Reads answer `If-None-Match` with 304 here, in one middleware, for every GET under the API;
writes hand an `If-Match` to their service as a `Precondition`, which the service decides inside
its write transaction, with the row held (the door cannot: it would be check-then-act).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders

from pressroom.kit.errors import PreconditionFailed, ValidationFailed
from pressroom.kit.output import json_bytes

# Anonymous reads of published content: any cache may keep them, but must ask again each time
# (a 304 costs no body), so a change is seen at once.
PUBLIC_REVALIDATE = "public, max-age=0, must-revalidate"
# Anything that depends on who asks: a browser may keep it, a shared cache may not.
PRIVATE = "private"
_TAG_BYTES = 16  # 128 bits: a collision is not a practical event
# SHA-256, not BLAKE2: with the CPU's SHA instructions it hashed a 26 kB page in 37 µs against
# BLAKE2b's 62 µs here (docs/performance.md).
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def entity_tag(body: bytes) -> str:
    digest = hashlib.sha256(body).digest()[:_TAG_BYTES]
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + '"'


def representation_tag(content: Any) -> str:
    """The tag of the reply that would carry `content`."""
    return entity_tag(json_bytes(content))


def version_of(tag: str) -> str:
    """A tag without its quotes: GraphQL's `version` and `expectedVersion`."""
    return tag.strip('"')


def _parse_tags(value: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) pairs of an entity-tag list; None when the value is not one."""
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None or match.end() == position:
            return None
        found.append((match.group(1) is not None, f'"{match.group(2)}"'))
        position = match.end()
    return found or None


@dataclass(frozen=True, slots=True)
class Precondition:
    """An `If-Match`: the tags a write may start from; `tags` None is `*` (any current one)."""

    tags: frozenset[str] | None

    @classmethod
    def from_header(cls, value: str | None) -> Precondition | None:
        if value is None:
            return None
        if value.strip() == "*":
            return cls(None)
        parsed = _parse_tags(value)
        if parsed is None:
            raise ValidationFailed.on("If-Match", 'must be "*" or a list of entity tags')
        # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
        return cls(frozenset(tag for weak, tag in parsed if not weak))

    @classmethod
    def from_version(cls, version: str | None) -> Precondition | None:
        return None if version is None else cls(frozenset({f'"{version}"'}))

    def holds(self, current_tag: str) -> bool:
        return self.tags is None or current_tag in self.tags


def require_current(precondition: Precondition | None, current: Any) -> None:
    """Refuses the write unless the resource's representation (`current`, as its GET would
    serialise it) is the one the caller last read. Call it with the row held."""
    if precondition is not None and not precondition.holds(representation_tag(current)):
        raise PreconditionFailed()


def none_match(header: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weak comparison, RFC 9110 §13.1.2), so a GET may
    answer 304. An unparsable header is ignored, as if absent."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    parsed = _parse_tags(header)
    return parsed is not None and any(candidate == tag for _weak, candidate in parsed)


def vary_on_authorization(headers: MutableHeaders) -> None:
    vary = headers.get("vary")
    if vary is None:
        headers["Vary"] = "Authorization"
    elif "authorization" not in vary.lower():
        headers["Vary"] = vary + ", Authorization"


# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5); no content headers.
NOT_MODIFIED_HEADERS = ("etag", "cache-control", "vary", "content-location", "expires", "date")


def not_modified_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers.items()
        if name in NOT_MODIFIED_HEADERS
    ]
