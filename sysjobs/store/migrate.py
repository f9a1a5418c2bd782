"""Schema migrations through Alembic, driven from Python (no ``alembic.ini`` needed).

Every revision file under ``migrations/versions`` is picked up — the engine's ``0001`` and
whatever other layers add on top (``0002`` app tables, …) — and ``upgrade`` goes to all heads.

Alembic is imported only when a migration runs: every process that opens a database asks
:func:`is_current` first, which reads the ``alembic_version`` table with one query and the
shipped heads from the revision files' ``revision``/``down_revision`` literals (parsed, not
imported) — importing Alembic and loading its script directory took about a tenth of a
second of every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from sysjobs.store.dialect import WRITE_OPTION
from sysjobs.store.revisions import MIGRATIONS, VERSION_QUERY, VERSION_TABLE, shipped_heads
from sysjobs.store.revisions import _literals as _literals  # (tests read a file's literals)

if TYPE_CHECKING:
    from alembic.config import Config

    from sysjobs.store.dialect import Dialect



def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

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
    from alembic import command

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
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revisions(engine: sa.Engine) -> set[str]:
    """The revisions the database is at (empty for a fresh database)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return set()
        rows = connection.execute(sa.text(VERSION_QUERY))
        return {str(row[0]) for row in rows}


def head_revisions() -> set[str]:
    """The newest revisions shipped with this version of sysjobs."""
    heads = shipped_heads()
    return _alembic_heads() if heads is None else heads  # None: a file the parser cannot read


def _alembic_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_current(engine: sa.Engine) -> bool:
    """Whether the database already has every shipped revision (skip the upgrade lock)."""
    return current_revisions(engine) == head_revisions()
