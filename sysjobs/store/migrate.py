"""Schema migrations through Alembic, driven from Python (no ``alembic.ini`` needed).

Every revision file under ``migrations/versions`` is picked up — the engine's ``0001`` and
whatever other layers add on top (``0002`` app tables, …) — and ``upgrade`` goes to all heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sysjobs.store.dialect import WRITE_OPTION

if TYPE_CHECKING:
    from sysjobs.store.dialect import Dialect

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "heads", *, dialect: Dialect | None = None) -> None:
    """Bring the database to ``revision`` (all heads by default) in one write transaction,
    under the dialect's migration lock (several processes may start at once)."""
    if dialect is None:
        from sysjobs.store.database import dialect_for  # (database imports this module)

        dialect = dialect_for(engine.url)
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            dialect.lock_for_migration(connection)
            command.upgrade(alembic_config(connection), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Take the database back to ``revision`` (tests of a revision's downgrade)."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revisions(engine: sa.Engine) -> set[str]:
    """The revisions the database is at (empty for a fresh database)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    """The newest revisions shipped with this version of sysjobs."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_current(engine: sa.Engine) -> bool:
    """Whether the database already has every shipped revision (skip the upgrade lock)."""
    return current_revisions(engine) == head_revisions()
