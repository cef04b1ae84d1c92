"""Periodic jobs: a job may carry a `unique_key` that at most one pending or running job holds,
so any number of workers can each ask for the next run and one job is queued.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    op.add_column("jobs", sa.Column("unique_key", sa.String(64), nullable=True))
    op.create_index(
        "uq_jobs_unique_key_open",
        "jobs",
        ["unique_key"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_unique_key_open", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("unique_key")
