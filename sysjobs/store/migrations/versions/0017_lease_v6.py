"""The lease functions, cheaper per call: ``_v6`` (``sql/0017_lease_v6.sql``).

Revision 0016's ``sysjobs_end_and_claim_v5`` looked up a job's latest event time (the clamp
of its end date) twice per ended job — once for the end date it writes, once for the event
it returns — each a walk of ``ix_job_events_job`` and the job's events in the heap; ``_v6``
returns the end date it wrote, and only a job put back to PENDING (which has none) reads its
events in RETURNING. ``sysjobs_claim_fair_v6`` with one app (a worker's usual claim) calls
that app's claim at once instead of a round's bookkeeping, and ``sysjobs_claim_batch_v6``
with no limits in play skips the search for limited queues. What is claimed, in which order,
under which locks and fences, with which events and hints, is revision 0016's.

The ``_v5`` functions stay for workers of the previous release.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0017_lease_v6.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements(SQL):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0016: the ``_v6`` functions gone (``_v5`` stayed)."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements("0017_lease_v6.down.sql"):
            op.execute(statement)
