"""The lease functions under versioned names: ``sysjobs_end_and_claim_v3`` and
``sysjobs_claim_batch_v3``.

Revision 0008's functions, renamed (``sql/0009_lease_v3.sql``); the unversioned names are
dropped. From here on a change to a function's text is a new revision that creates the
next version (``…_v4``) from its own frozen ``.sql`` file and ``sysjobs/store/postgres/
leases.py`` calls that name — so which text a database runs is visible in its name, and a
new release's function can stand beside the one an older worker still calls.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from sysjobs.store.postgres.sql import statements

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

#: The frozen text this revision applies (``sysjobs/store/postgres/sql``).
SQL = "0009_lease_v3.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements(SQL):
        op.execute(statement)


def downgrade() -> None:
    """Back to revision 0008's unversioned functions."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements("0008_lease.sql") + statements("0009_lease_v3.down.sql"):
        op.execute(statement)
