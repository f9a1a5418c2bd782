"""The pending jobs in claim order: a partial index on (created_ms, id).

The claim takes the oldest pending jobs (``ORDER BY created_ms, id LIMIT n``) across several
queues; ``ix_jobs_pending`` leads with the queue, so with more than one queue the database
sorted every pending row on each claim — a claim's cost grew with the queue's length. This
index hands them out in order and the claim stops after ``n`` rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

PENDING = sa.text("status = 'PENDING'")


def upgrade() -> None:
    op.create_index(
        "ix_jobs_pending_order",
        "jobs",
        ["created_ms", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_pending_order", table_name="jobs")
