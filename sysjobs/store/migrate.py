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

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sysjobs.store.dialect import WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

    from sysjobs.store.dialect import Dialect

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


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
        rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return {str(row[0]) for row in rows}


def head_revisions() -> set[str]:
    """The newest revisions shipped with this version of sysjobs."""
    graph = _revision_graph()
    if graph is None:  # a revision file this parser cannot read: ask Alembic
        return _alembic_heads()
    revisions, parents = graph
    return revisions - parents


def _alembic_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _revision_graph() -> tuple[set[str], set[str]] | None:
    """Every revision and every revision something revises, from the files' literals."""
    paths = sorted((MIGRATIONS / "versions").glob("*.py"))
    graph = _graph_of(tuple(_stamp(path) for path in paths if path.name != "__init__.py"))
    return None if graph is None else (set(graph[0]), set(graph[1]))


def _stamp(path: Path) -> tuple[Path, int, int]:
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4)
def _graph_of(
    files: tuple[tuple[Path, int, int], ...],
) -> tuple[frozenset[str], frozenset[str]] | None:
    """The graph of these revision files, parsed once per process while they stay the same
    (keyed by path, modification time and size): every engine that opens a database asks
    for the heads, and parsing the files was half of ``Engine.open`` on SQLite."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path, _mtime_ns, _size in files:
        values = _literals(path)
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
        elif down is not None:
            return None
    return frozenset(revisions), frozenset(parents)


#: A one-line module-level assignment of a revision file's graph names.
_GRAPH_LINE = re.compile(r"^(?:down_)?revision\s*(?::[^=\n]*)?=[^\n]*$", re.MULTILINE)


def _literals(path: Path) -> dict[str, object]:
    """The ``revision`` and ``down_revision`` literals of a revision file: from their own
    lines when both are one-line literals (parsing whole files was most of a read command's
    database open), else from every module-level assignment of the file."""
    text = path.read_text("utf-8")
    try:
        found = _assigned("\n".join(_GRAPH_LINE.findall(text)))
    except SyntaxError:
        found = {}
    return found if {"revision", "down_revision"} <= set(found) else _assigned(text)


def _assigned(source: str) -> dict[str, object]:
    """The module-level ``name = literal`` (or ``name: T = literal``) assignments of
    ``source``."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        target, value = _assignment(node)
        if target is not None and value is not None:
            try:
                found[target] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError):
                continue
    return found


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return (target.id, node.value) if isinstance(target, ast.Name) else (None, None)
    return None, None


def is_current(engine: sa.Engine) -> bool:
    """Whether the database already has every shipped revision (skip the upgrade lock)."""
    return current_revisions(engine) == head_revisions()
