"""Many apps on one database: every row that belongs to an app carries the app's key.

Each table gets ``app`` (``sysjobs.jobs.apps``); the keys and indexes an app's queries use
lead with it: records ``(app, entity, id)``, users unique by ``(app, email)``, endpoint and
app-state rows keyed by ``(app, name)``, an app's pending jobs ``(app, …)``.

Rows already there belonged to the one app that used the database; which app that was is
not written anywhere, so they are marked unowned (``''``, which no app key can spell) and,
when there were any, a marker row ``('', 'unowned-rows')`` in ``app_state`` says so. The
first app that opens the database afterwards takes the marker and the unowned rows in one
transaction (``sysjobs.store.app_misc.AppMiscStore.claim_unowned``); see docs/many-apps.md.

SQLite cannot change a primary key or drop a column's UNIQUE in place, so there the three
small tables whose keys change (users, endpoints, app state) are copied into new ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

PENDING = sa.text("status = 'PENDING'")
_TS = sa.DateTime(timezone=True)
#: Tables that only gain the column (their keys do not change).
ADDED_TO = ("jobs", "job_results", "job_logs", "job_events", "app_records", "app_files")
#: The ``app_state`` name of the marker (``sysjobs.store.app_misc.UNOWNED_MARKER``).
MARKER = "unowned-rows"


def _app_column(primary_key: bool = False) -> sa.Column[str]:
    return sa.Column("app", sa.String(64), nullable=False, server_default="",
                     primary_key=primary_key)  # fmt: skip


def upgrade() -> None:
    had_rows = _any_rows()
    for table in ADDED_TO:
        op.add_column(table, _app_column())
    if _on_postgresql():
        _rekey_postgresql()
    else:
        _rekey_sqlite()
    _indexes()
    if had_rows:
        op.execute(
            "INSERT INTO app_state (app, name, status, updated_at) "
            f"VALUES ('', '{MARKER}', 'PENDING', CURRENT_TIMESTAMP)"
        )


def _any_rows() -> bool:
    """Whether any table holds a row (a fresh database has nothing to hand over)."""
    conn = op.get_bind()
    tables = ("jobs", "app_records", "app_users", "app_files", "app_endpoints", "app_state")
    return any(conn.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in tables)


def _rekey_postgresql() -> None:
    op.add_column("app_users", _app_column())
    op.drop_constraint("app_users_email_key", "app_users", type_="unique")
    for table in ("app_endpoints", "app_state"):
        op.add_column(table, _app_column())
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, ["app", "name"])


def _rekey_sqlite() -> None:
    _copy("app_users", [
        sa.Column("id", sa.String(24), primary_key=True), _app_column(),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    ])  # fmt: skip
    for table in ("app_endpoints", "app_state"):
        _copy(table, [
            _app_column(primary_key=True),
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("updated_at", _TS, nullable=False),
        ])  # fmt: skip


def _copy(table: str, columns: list[sa.Column[Any]]) -> None:
    """Replace ``table`` by one with ``columns`` holding the same rows, unowned."""
    names = [c.name for c in columns if c.name != "app"]
    op.create_table(f"_new_{table}", *columns)
    listed = ", ".join(names)
    op.execute(f"INSERT INTO _new_{table} (app, {listed}) SELECT '', {listed} FROM {table}")
    op.drop_table(table)
    op.rename_table(f"_new_{table}", table)


def _indexes() -> None:
    op.drop_index("ix_app_records_entity_id", table_name="app_records")
    op.create_index("ix_app_records_app_entity_id", "app_records", ["app", "entity", "id"])
    op.create_index("ux_app_users_app_email", "app_users", ["app", "email"], unique=True)
    op.drop_index("ix_app_files_name", table_name="app_files")
    op.create_index("ix_app_files_app_name", "app_files", ["app", "name"])
    op.create_index("ix_jobs_app_created", "jobs", ["app", "created_ms", "id"])
    op.create_index("ix_jobs_app_pending", "jobs", ["app", "queue", "low_priority", "created_ms"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip
    op.create_index("ix_jobs_app_pending_order", "jobs", ["app", "created_ms", "id"],
                    postgresql_where=PENDING, sqlite_where=PENDING)  # fmt: skip


def downgrade() -> None:
    """Back to one app per database: the app keys are dropped (rows of several apps then
    mix, and a user email or endpoint name two apps share makes this fail)."""
    for name in ("ix_jobs_app_pending_order", "ix_jobs_app_pending", "ix_jobs_app_created"):
        op.drop_index(name, table_name="jobs")
    op.drop_index("ix_app_files_app_name", table_name="app_files")
    op.create_index("ix_app_files_name", "app_files", ["name"])
    op.drop_index("ux_app_users_app_email", table_name="app_users")
    op.drop_index("ix_app_records_app_entity_id", table_name="app_records")
    op.create_index("ix_app_records_entity_id", "app_records", ["entity", "id"])
    op.execute(f"DELETE FROM app_state WHERE app = '' AND name = '{MARKER}'")
    if _on_postgresql():
        for table in ("app_endpoints", "app_state"):
            op.drop_constraint(f"{table}_pkey", table, type_="primary")
            op.drop_column(table, "app")
            op.create_primary_key(f"{table}_pkey", table, ["name"])
        op.drop_column("app_users", "app")
        op.create_unique_constraint("app_users_email_key", "app_users", ["email"])
    else:
        _unkey_sqlite()
    for table in ADDED_TO:
        op.drop_column(table, "app")


def _unkey_sqlite() -> None:
    _copy_back("app_users", [
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    ])  # fmt: skip
    for table in ("app_endpoints", "app_state"):
        _copy_back(table, [
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("updated_at", _TS, nullable=False),
        ])  # fmt: skip


def _copy_back(table: str, columns: list[sa.Column[Any]]) -> None:
    """Replace ``table`` by one with ``columns`` (no app key) holding the same rows."""
    listed = ", ".join(c.name for c in columns)
    op.create_table(f"_old_{table}", *columns)
    op.execute(f"INSERT INTO _old_{table} ({listed}) SELECT {listed} FROM {table}")
    op.drop_table(table)
    op.rename_table(f"_old_{table}", table)


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")
