"""Both lease functions find every row they touch by its key, whatever plan is cached.

PL/pgSQL plans each statement of ``sysjobs_end_and_claim`` and ``sysjobs_claim_batch``
with custom plans for five calls, then may settle on a generic one. Those plans estimate a
hundred ends (``json_to_recordset`` of a parameter) or a tenth of the table (``LIMIT`` of a
parameter) and, with sequential scans off (revision 0006), joined them to ``jobs`` by
hashing, merging or filtering *every entry* of ``jobs_pkey``: a group commit then read the
whole table's primary key, its cost grew with the table, and at 10,000 rows a worker with
16 slots spent three times the server CPU per job (~700 against ~250 µs). Which plan was
kept depended on the table's size at the sixth call, so runs differed by as much.

A second trap, before the table's first ANALYZE: a row found ``WHERE id = …`` may be
looked up in *any* index that holds ``id``, leading column or not — the planner, believing
the table tiny, costed ``ix_jobs_status_created`` (status, created_ms, id) the same as the
primary key, and each claimed row then cost a walk of that whole index (0.3 ms a row).

So every statement that reaches ``jobs`` or ``job_results`` names its rows exactly: the
ends are locked by ``id = ANY (ARRAY(…))`` (an index condition on the primary key
whatever the join above it) and then written by the ``ctid`` they were locked at, the
claim writes the rows it picked and locked by their ``ctid`` (a TID scan: no index at
all), and the earlier results of re-claimed jobs come through a ``LATERAL`` lookup. A
locked row keeps its ``ctid`` until this transaction changes it. Hash and merge joins are
off as well (nothing here joins more than a worker's few dozen rows). The rules, the order
and the answer are those of revision 0006.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0007_lease.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements(SQL):
        op.execute(statement)


def downgrade() -> None:
    """Back to revision 0006's functions (CREATE OR REPLACE keeps the signatures, but the
    attributes of a replaced function are those of its new definition)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements("0006_lease.sql"):
        op.execute(statement)
