"""The app's own log (``sys.logs``, issue 20): one table, keyed by app like every app row.

Lines are appended by scripts (``sys.logs.info|warn|error|debug``) and read by the engine,
the CLI and the HTTP API, oldest first per app, filtered by level, message and period;
retention prunes them by age. ``job_id`` says which job's script wrote a line, without a
foreign key: an app log outlives the job it came from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "app_logs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("app", sa.String(64), nullable=False, server_default=""),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("additional_info", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.String(24), nullable=True),
    )
    op.create_index("ix_app_logs_app_ts", "app_logs", ["app", "ts_ms", "id"])
    op.create_index("ix_app_logs_ts", "app_logs", ["ts_ms"])


def downgrade() -> None:
    op.drop_index("ix_app_logs_ts", table_name="app_logs")
    op.drop_index("ix_app_logs_app_ts", table_name="app_logs")
    op.drop_table("app_logs")
