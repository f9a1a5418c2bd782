"""Claims scoped by app and fair across apps; every transition in its job's app.

Every claim now names the apps it serves and walks each app's pending jobs on
``ix_jobs_app_pending_order`` (revision 0010), so the unscoped pending indexes
``ix_jobs_pending`` and ``ix_jobs_pending_order`` serve nothing any more and go — and so
does ``ix_jobs_app_pending`` (app, queue, low_priority, created_ms): with statistics that
had not yet seen a backlog, PostgreSQL read all 50,000 pending jobs of an app from it and
sorted them, per claim, instead of walking the ordered index. On
PostgreSQL the lease functions get their ``_v4`` (``sql/0011_lease_v4.sql``): one app's
claim, the rounds across apps, and the end-and-claim that writes each event with the job's
app; the ``_v3`` functions go (they claim across apps: a worker still calling them would run
one app's job with another app's definition, so it fails at its first claim instead).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0011_lease_v4.sql"
#: Revision 0009's functions, which a downgrade puts back.
V3_SQL = "0009_lease_v3.sql"
PENDING = sa.text("status = 'PENDING'")


def upgrade() -> None:
    op.drop_index("ix_jobs_pending", table_name="jobs")
    op.drop_index("ix_jobs_pending_order", table_name="jobs")
    op.drop_index("ix_jobs_app_pending", table_name="jobs")
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements(SQL):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0010: the unscoped pending indexes again, the ``_v4`` functions gone
    and 0009's ``_v3`` back (from its frozen file)."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in [*statements("0011_lease_v4.down.sql"), *statements(V3_SQL)]:
            op.execute(statement)
    op.create_index("ix_jobs_pending", "jobs", ["queue", "low_priority", "created_ms"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
    op.create_index("ix_jobs_pending_order", "jobs", ["created_ms", "id"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
    op.create_index("ix_jobs_app_pending", "jobs", ["app", "queue", "low_priority", "created_ms"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
