"""Bounds on what callers send, written once and used by both doors: REST's query strings and
paths are validated with them (posts, users and tags endpoints, kit/query.py) and GraphQL's
input conversion checks the same values (graphql/inputs.py), so a value one door refuses the
other refuses too, with the same limit in its message."""

from __future__ import annotations

# The BIGINT range of every id column: a larger integer names no row and neither driver can
# bind it (kit/ids.py).
MAX_ID = 2**63 - 1
# Free-text search terms (`q`) of the post and user lists.
SEARCH_MAX_CHARS = 100
# A tag's slug, as stored (String(50)) and as a filter or a path segment.
SLUG_MAX_CHARS = 50
# A role name as a list filter; the longest role is far shorter.
ROLE_MAX_CHARS = 32
# A list's `sort` parameter (comma-separated keys).
SORT_MAX_CHARS = 200
# Items in one page (REST `limit`) or one slice (GraphQL `first`).
MAX_PAGE_SIZE = 100
