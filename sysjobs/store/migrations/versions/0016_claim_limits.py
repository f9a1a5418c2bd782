"""Fleet-wide concurrency limits and fair turns per root job, in the claim.

A queue of an app may have a maximum of jobs running at once, and an app may too (its
manifest, docs/manifest.md): the claim counts the app's leased jobs per queue
(``ix_jobs_app_leased``, owner set) and takes no more than the limit leaves, across every
worker and process on the database. On SQLite the write lock orders the claims; on
PostgreSQL the lease functions get their ``_v5`` (``sql/0016_lease_v5.sql``), which take a
transaction-scoped advisory lock per limited (app, queue) and per capped app before they
count.

Each job gets a **turn** (``jobs.turn``, set at enqueue, ``store/turns.py``) and a claim
takes an app's pending jobs lowest turn first instead of oldest first, so that one root job
with many pending children does not starve the others: ``ix_jobs_app_pending_order`` is
now ``(app, turn, id)``, and ``ix_jobs_root_pending`` finds a tree's last pending turn. Rows
already there get their creation time as their turn: their order does not change.

The ``_v4`` functions stay for workers of the previous release (they claim oldest first
and know no limits; nothing in them crosses apps).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0016_lease_v5.sql"
PENDING = sa.text("status = 'PENDING'")
ROOT_PENDING = sa.text("status = 'PENDING' AND root_id IS NOT NULL")
LEASED = sa.text("owner IS NOT NULL")


def upgrade() -> None:
    turn = sa.Column("turn", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
    op.add_column("jobs", turn)
    op.execute("UPDATE jobs SET turn = created_ms")
    op.drop_index("ix_jobs_app_pending_order", table_name="jobs")
    op.create_index("ix_jobs_app_pending_order", "jobs", ["app", "turn", "id"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
    op.create_index("ix_jobs_root_pending", "jobs", ["root_id", "turn"],
                    postgresql_where=ROOT_PENDING, sqlite_where=ROOT_PENDING)  # fmt: skip
    op.create_index("ix_jobs_app_leased", "jobs", ["app", "queue"],
                    postgresql_where=LEASED, sqlite_where=LEASED)  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements(SQL):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0015: the ``_v5`` functions gone, the pending order by creation."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements("0016_lease_v5.down.sql"):
            op.execute(statement)
    op.drop_index("ix_jobs_app_leased", table_name="jobs")
    op.drop_index("ix_jobs_root_pending", table_name="jobs")
    op.drop_index("ix_jobs_app_pending_order", table_name="jobs")
    op.create_index("ix_jobs_app_pending_order", "jobs", ["app", "created_ms", "id"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("turn")
