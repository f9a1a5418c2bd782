"""The lease functions with less work per claim: ``_v7`` (``sql/0018_lease_v7.sql``).

Revision 0017's ``sysjobs_claim_take_v6`` meant to read a claimed job's earlier results
only for a job claimed again, but its lateral join still probed ``job_results`` for every
claimed job (the attempt test filtered the probe's row, it did not skip the probe): 32
index probes and 96 buffers in a 32-job claim. ``_v7`` reads them in sub-selects that
only a job with ``attempt > 1`` evaluates. And ``sysjobs_claim_fair_v7`` with one app and
no limit in play calls the take itself, one PL/pgSQL call (with its settings) fewer per
claim than going through ``sysjobs_claim_batch_v7``, whose first test sends exactly that
case to the take. What is claimed, in which order, under which locks and fences, with
which events and hints, is revision 0017's.

The ``_v6`` functions stay for workers of the previous release.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0018_lease_v7.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements(SQL):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0017: the ``_v7`` functions gone (``_v6`` stayed)."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements("0018_lease_v7.down.sql"):
            op.execute(statement)
