"""Revision 0002 creates exactly the app tables that ``sysjobs.store.app_schema`` declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sysjobs.store.app_schema import APP_TABLES
from sysjobs.store.schema import metadata


def test_migration_matches_the_app_tables(app_url: str) -> None:
    db = sa.create_engine(app_url)
    try:
        with db.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.dispose()
    app_names = {t.name for t in APP_TABLES}
    ours = [d for d in diff if _table_of(d) in app_names]
    assert ours == []


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(part, sa.Table):
            return str(name)
        if isinstance(part, str) and part.startswith("app_"):
            return part
    return None
