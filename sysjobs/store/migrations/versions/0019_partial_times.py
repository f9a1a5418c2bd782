"""``ix_jobs_started`` and ``ix_jobs_ended`` hold only the jobs that have the time.

Every query that reads either index bounds its column (``startFrom``/``endTo`` and the
probe of a page, the stats' windows, the reaper of ended jobs: ``>=``, ``<=``, ``<``), and a
bound implies ``IS NOT NULL`` to both planners — so a job without a start or an end never
needed an entry. Yet each new job wrote two (a pending job has neither), and each claim one
more for its still empty end: three of the ~24 index entries a job's three row versions
write on PostgreSQL (insert, claim, end: every index gets an entry for a new row version),
and on SQLite an entry at insert and a delete and insert at each change. Partial, they take
an entry only once the time is set. The plans that read them are unchanged
(``tests/integration/engine/test_listing_indexes.py``).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

#: The two indexes and their column (the column is also the condition's).
INDEXES = (("ix_jobs_started", "started_ms"), ("ix_jobs_ended", "ended_ms"))


def upgrade() -> None:
    for name, column in INDEXES:
        op.drop_index(name, table_name="jobs")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "jobs", [column], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, column in INDEXES:
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", [column])
