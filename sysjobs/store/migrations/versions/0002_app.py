"""The app: records, users, files, endpoints, app state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_records",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index("ix_app_records_entity_id", "app_records", ["entity", "id"])
    op.create_table(
        "app_users",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "app_files",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("token_expires_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_app_files_name", "app_files", ["name"])
    for table in ("app_endpoints", "app_state"):
        op.create_table(
            table,
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("updated_at", _TS, nullable=False),
        )


def downgrade() -> None:
    for table in ("app_state", "app_endpoints", "app_files", "app_users", "app_records"):
        op.drop_table(table)
