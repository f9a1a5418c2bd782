"""``sysjobs_end_and_claim``: a worker's group commit as one PostgreSQL statement.

A worker ends the leases of the jobs that finished together and leases its free slots'
next jobs in one transaction (``LeaseStore.finish``). Sent statement by statement, that
was four round trips (BEGIN, the locked read, the claim, the ends with the COMMIT) and a
statement per ended job; on two shared cores a round trip costs 0.2-0.35 ms and every
statement a server parse and a plan. This function does the same in one round trip, as
its own transaction (the caller runs it in autocommit), with one UPDATE for all the ends:

1. the ends are decided: their leased rows locked in id order; an end counts when the
   owner and attempt still match and its status map (``targets``) knows the status;
2. each claim: the pending jobs it may take, oldest first, locked with ``SKIP LOCKED``,
   leased (RUNNING, owner, attempt + 1, lease deadline), their results and checkpoint
   when they ran before, and a ``claimed`` event each — normal priority first, then low
   priority while slots are left (``allow_low``);
3. the ends decided in 1 take their new status, lose the lease, get their end date
   (none when put back to PENDING), errors flag, progress and results; one event each;
4. one ``NOTIFY`` with the keys of every job it changed (``work`` when a job is pending
   again), delivered on commit.

The rules and their order are those of the SQLAlchemy path SQLite runs
(``store/leases.py``): an end is decided before the claims (a stale lease on a job the
claims then take stays stale), and the claims do not see the ends.

It runs with sequential and bitmap scans and JIT off: on a table whose statistics predate
its rows (a new database filling up, before autovacuum's first ANALYZE) the planner
otherwise read every pending job and sorted them to take sixteen, and scanned the table
for the ids of the ends. Every statement here has an index that serves it; the re-checks
of a status on rows found by id are written ``(status || '')``, so that an index on
``status`` cannot drive those joins (it walked every pending job to find the sixteen ids).

Returns ``{"claimed": [[[row, results, checkpoint], …] per claim], "ended": [[ord, row,
results], …]}``, rows as ``to_json`` of the table row (``data`` verbatim); with ``p_rows``
false an ended row is only its id and new status (a worker's group commit reads no more).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0006_lease.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements(SQL):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS sysjobs_end_and_claim(json, json, text, boolean)")
    op.execute(
        "DROP FUNCTION IF EXISTS sysjobs_claim_batch"
        "(text, text[], text[], int, boolean, bigint, bigint, bigint)"
    )
