"""Tag slugs: lower-case words joined by hyphens, derived from the name unless given."""

from __future__ import annotations

import re
import unicodedata

from pressroom.kit.bounds import SLUG_MAX_CHARS

MAX_SLUG_CHARS = SLUG_MAX_CHARS
SLUG_PATTERN = r"^[^\W_]+(?:-[^\W_]+)*$"
_SEPARATORS = re.compile(r"[\W_]+")


def slugify(name: str) -> str:
    """`"Python 3 & Rust"` → `python-3-rust`; letters of any script are kept."""
    normalized = unicodedata.normalize("NFKC", name).lower()
    return _SEPARATORS.sub("-", normalized).strip("-")[:MAX_SLUG_CHARS].strip("-")
