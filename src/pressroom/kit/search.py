"""Search terms a caller types, made safe to put inside a SQL `LIKE` pattern.

Shared by every domain that searches text (users by name, posts by title and content); it knows
no table, so it lives below them all.
"""

from __future__ import annotations


def escape_like(text: str) -> str:
    """`text` matched literally inside a pattern that declares `escape="\\"`: the caller's `%`
    and `_` are characters to find, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
