"""The job engine: jobs, job_results, job_logs, job_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status = 'PENDING'")
LEASED = sa.text("owner IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("low_priority", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("has_errors", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=True),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.Column("run_by_id", sa.String(64), nullable=True),
        sa.Column("run_by_name", sa.String(255), nullable=True),
        sa.Column("parent_id", sa.String(24), nullable=True),
        sa.Column("root_id", sa.String(24), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("lease_expires_ms", sa.BigInteger(), nullable=True),
        sa.Column("force_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("lost_count", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["queue", "low_priority", "created_ms"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_jobs_leased",
        "jobs",
        ["lease_expires_ms"],
        postgresql_where=LEASED,
        sqlite_where=LEASED,
    )
    op.create_index("ix_jobs_created", "jobs", ["created_ms", "id"])
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_ms"])
    op.create_index("ix_jobs_type_created", "jobs", ["type", "created_ms"])
    op.create_index("ix_jobs_started", "jobs", ["started_ms"])
    op.create_index("ix_jobs_ended", "jobs", ["ended_ms"])
    op.create_index("ix_jobs_parent", "jobs", ["parent_id"])

    op.create_table(
        "job_results",
        sa.Column(
            "job_id",
            sa.String(24),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
    )
    op.create_table(
        "job_logs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.String(24), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("additional_info", sa.JSON(), nullable=True),
    )
    op.create_index("ix_job_logs_job_ts", "job_logs", ["job_id", "ts_ms", "id"])
    op.create_table(
        "job_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.String(24), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id", "id"])
    op.create_index("ix_job_events_at", "job_events", ["at_ms"])


def downgrade() -> None:
    op.drop_table("job_events")
    op.drop_table("job_logs")
    op.drop_table("job_results")
    op.drop_table("jobs")
