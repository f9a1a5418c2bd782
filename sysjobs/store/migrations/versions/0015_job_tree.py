"""The job tree's indexes (issue 20): a job's children and a root's tree, per app.

``ix_jobs_app_parent`` (app, parent_id, status) counts a page of jobs' children and their
final ones from the index alone, lists a job's children and walks a subtree;
``ix_jobs_app_root`` (app, root_id, created_ms, id) lists a root's tree newest first and
finds every job a verb on a root moves. Both lead with the app, as every app query does.
``ix_jobs_parent`` (parent_id alone, revision 0001) goes: every read by parent is an app's,
the planners preferred the smaller old index and then filtered by app row by row, and each
insert paid for both. Both new ones are partial (``… IS NOT NULL``): roots — most jobs —
are not in them, and a claim's walk of an app's pending rows cannot pick them (it picked
``(app, parent_id, status)`` over the pending index once the table had statistics).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_app_parent", "jobs", ["app", "parent_id", "status"],
                    **_only("parent_id IS NOT NULL"))  # fmt: skip
    op.create_index("ix_jobs_app_root", "jobs", ["app", "root_id", "created_ms", "id"],
                    **_only("root_id IS NOT NULL"))  # fmt: skip
    op.drop_index("ix_jobs_parent", table_name="jobs")


def _only(condition: str) -> dict[str, Any]:
    """A partial index's condition on both databases."""
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def downgrade() -> None:
    op.create_index("ix_jobs_parent", "jobs", ["parent_id"])
    op.drop_index("ix_jobs_app_root", table_name="jobs")
    op.drop_index("ix_jobs_app_parent", table_name="jobs")
