"""The lease function's short path for one app without limits: ``_v8`` (``sql/0020_lease_v8.sql``).

A pool that serves one app without concurrency limits — every worker of a single-app
deployment — sends one claim per group commit, of one app, with no limit of it. Revision
0018's ``sysjobs_end_and_claim_v7`` still ran, for each such call, the limits' lock-key query
(two ``json_to_recordset``, ``json_each`` and a sort, to find no key) and
``sysjobs_claim_fair_v7`` (a PL/pgSQL call and its apps' de-duplication query), which then
called ``sysjobs_claim_take_v7`` at once: CPU on the server without a buffer, on every call.
``sysjobs_end_and_claim_v8`` sees that case from the claim itself (one claim, one app, no
types of its own, no limit of that app) and calls the take directly; every other claim takes
``_v7``'s path unchanged. What is claimed, in which order, under which locks and fences,
with which events and hints, is revision 0018's.

The ``_v7`` functions stay: ``_v8`` calls ``_v7``'s take and fair rounds, and workers of the
previous release call ``sysjobs_end_and_claim_v7``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0020_lease_v8.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements(SQL):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0019: the ``_v8`` function gone (``_v7`` stayed)."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements("0020_lease_v8.down.sql"):
            op.execute(statement)
