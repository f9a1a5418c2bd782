"""Schema migrations through Alembic, driven from Python (no ``alembic.ini`` needed).

Every revision file under ``migrations/versions`` is picked up — the engine's ``0001`` and
whatever other layers add on top (``0002`` app tables, …) — and ``upgrade`` goes to all heads.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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


#: Serialises concurrent upgrades of one PostgreSQL database (several processes starting).
UPGRADE_LOCK_KEY = 0x5157_4A6F_6273


def upgrade(engine: sa.Engine, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (all heads by default) in one transaction."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK_KEY})
        command.upgrade(alembic_config(connection), revision)


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
