"""A trigram index for the ``logs`` message filter (PostgreSQL only).

``logs({message: 'duplicate'})`` is a case-insensitive substring match (``ILIKE '%…%'``): a
btree cannot serve it, so on a job with a million lines PostgreSQL read every line of the job
(~200 ms). A GIN index with ``gin_trgm_ops`` on ``message`` hands out only the lines that
contain the text's trigrams; the planner still walks ``ix_job_logs_job_ts`` when the text is
common or shorter than a trigram.

The index needs the pg_trgm extension (part of Debian's ``postgresql-15`` package, and a
"trusted" extension that a database owner may create). Where it is not installed or may not be
created, the revision still succeeds without the index: the filter keeps working, unindexed.
SQLite gets nothing (it has no such index type).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

INDEX = "ix_job_logs_message_trgm"


def _has_pg_trgm(conn: sa.Connection) -> bool:
    """Create pg_trgm if it is available and allowed; True when it is there afterwards."""
    available = conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return False
    try:
        with conn.begin_nested():  # a refused CREATE must not abort the whole upgrade
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql" or not _has_pg_trgm(conn):
        return
    op.create_index(
        INDEX,
        "job_logs",
        ["message"],
        postgresql_using="gin",
        postgresql_ops={"message": "gin_trgm_ops"},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"DROP INDEX IF EXISTS {INDEX}"))
