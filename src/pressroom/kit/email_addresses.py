"""One spelling per email address: what is stored, compared, searched and throttled by."""

from __future__ import annotations

import unicodedata


def normalise_email(value: str) -> str:
    """NFKC, then case-folded (and NFKC again, as Unicode's NFKC_Casefold does), so a fullwidth
    or compatibility look-alike ("ａｎｎ@example.com") and any letter case give one address.

    Done here, not with the database's lower(): SQLite's folds only ASCII, and the two
    databases must agree on who is a duplicate (docs/api.md)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
