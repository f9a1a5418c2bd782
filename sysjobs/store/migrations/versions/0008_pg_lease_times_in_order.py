"""The lease functions never store a time before the job's own earlier times.

A claim or an end arrives with the time its client read just before the call; no lock
orders that read against other clients' writes, and clients' clocks differ. A claimer that
read its clock, then lost the CPU while a job was enqueued and committed, took that job
with a start before its creation (up to 66 ms in a review run; ``find({createTo:
started})`` then missed it). So the functions clamp, on the row they hold locked:

* a claim starts a job at ``greatest(created_ms, now)`` (a job that ran before keeps its
  first start), and dates its event ``greatest(started_ms, now)`` — and no earlier than the
  job's latest event when it ran before (a resume, a stop request);
* an end dates the job and its event ``greatest(created_ms, started_ms, now, latest
  event)``.

The latest event is one probe of ``ix_job_events_job`` per row (a first claim makes none).

Clamping, rather than reading the server's clock, keeps one source of time — the engine's
injected clock, which ``created_ms`` also comes from — and holds whatever the clocks of
the machines do. The functions are revision 0007's with these expressions changed
(``sql/0008_lease.sql``); ``downgrade`` puts 0007's back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0008_lease.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements(SQL):
        op.execute(statement)


def downgrade() -> None:
    """Back to revision 0007's functions."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements("0007_lease.sql"):
        op.execute(statement)
