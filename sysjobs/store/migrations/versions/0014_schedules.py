"""Scheduled jobs (issue 20): one row per schedule of an app's manifest, keyed by app and name.

``next_ms`` is the schedule's next tick. A worker that finds it due moves it to the tick
after now with a compare-and-set (``UPDATE … WHERE next_ms = <the due tick>``) in the same
transaction that inserts the tick's job: whichever of many workers commits first starts
the job, the others update nothing — one job per tick on SQLite (one writer at a time) and
PostgreSQL (the row lock, and the ``WHERE`` re-checked after it) alike.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("app", sa.String(64), primary_key=True, server_default=""),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.String(400), nullable=False),
        sa.Column("next_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_tick_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_fired_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_job_id", sa.String(24), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("schedules")
