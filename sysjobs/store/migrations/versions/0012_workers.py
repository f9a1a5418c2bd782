"""The workers registry: one row per running pool of job slots.

Each pool (in a worker process or in-process) writes a row when it starts — host, pid,
slots, queue limits, the app keys it serves, its lease length —, refreshes ``last_seen_ms``,
``busy`` and ``job_ids`` with its lease heartbeat, and deletes it when it stops cleanly. A
row whose heartbeat is older than a few of its lease periods belongs to a worker that died;
the dashboard and ``sysjobs workers`` show it as gone until it is pruned
(``sysjobs.store.workers``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("apps", sa.JSON(), nullable=False),
        sa.Column("busy", sa.Integer(), nullable=False),
        sa.Column("job_ids", sa.JSON(), nullable=False),
        sa.Column("lease_ms", sa.BigInteger(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_workers_last_seen", "workers", ["last_seen_ms"])


def downgrade() -> None:
    op.drop_index("ix_workers_last_seen", table_name="workers")
    op.drop_table("workers")
