"""The job tree's indexes (issue 20): a job's children and a root's tree, per app.

``ix_jobs_app_parent`` (app, parent_id, status) counts a page of jobs' children and their
final ones from the index alone, lists a job's children and walks a subtree;
``ix_jobs_app_root`` (app, root_id, created_ms, id) lists a root's tree newest first and
finds every job a verb on a root moves. Both lead with the app, as every app query does.

Revision ID: 0015
Revises: 0013 (a placeholder: revisions 0014 and 0016 are written alongside; the merge
re-points this one)
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_app_parent", "jobs", ["app", "parent_id", "status"])
    op.create_index("ix_jobs_app_root", "jobs", ["app", "root_id", "created_ms", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_app_root", table_name="jobs")
    op.drop_index("ix_jobs_app_parent", table_name="jobs")
