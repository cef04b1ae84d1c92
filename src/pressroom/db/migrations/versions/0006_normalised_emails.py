"""Stored emails in one spelling: NFKC, then case-folded (kit/email_addresses.py).

Sign-up compared emails with the database's lower(), which on SQLite folds only ASCII and on
neither database maps fullwidth or compatibility characters: "ａｎｎ@example.com" signed up as
a second account beside "ann@example.com". New addresses are normalised in Python before they
are stored; this migration brings the stored ones to the same form.

Live accounts whose addresses become one address are not merged, nor changed: merging would
decide for their owners which account survives, and changing only some would break the unique
index on lower(email) among live users. They keep their spellings, and each such group is
reported (user ids only, no address, on the `pressroom.migrations` logger at WARNING) for an
operator to resolve (change or delete all but one). Until then sign-in, which now normalises
what is typed, reaches the one account of the group whose stored spelling is already normal,
if any; the look-alikes cannot sign in with a password. Deleted accounts are normalised too:
the index leaves them out, so they never collide.

Downgrade changes nothing: the original spellings are not kept (the addresses still work).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging
import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("pressroom.migrations")
_users = sa.table(
    "users",
    sa.column("id", sa.BigInteger),
    sa.column("email", sa.String),
    sa.column("deleted_at", sa.DateTime),
)


def _normalised(email: str) -> str:
    # A frozen copy of kit/email_addresses.normalise_email: a migration must not change
    # meaning when the code it once imported does.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_users.c.id, _users.c.email, _users.c.deleted_at)).all()
    live_by_address: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.deleted_at is None:
            live_by_address[_normalised(row.email)].append(row.id)
    colliding = {address for address, ids in live_by_address.items() if len(ids) > 1}
    for address in sorted(colliding):
        log.warning(
            "accounts %s are one email address once normalised; left unchanged, not merged",
            sorted(live_by_address[address]),
        )
    for row in rows:
        address = _normalised(row.email)
        if address == row.email or (row.deleted_at is None and address in colliding):
            continue
        conn.execute(sa.update(_users).where(_users.c.id == row.id).values(email=address))


def downgrade() -> None:
    pass
