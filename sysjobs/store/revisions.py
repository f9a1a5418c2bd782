"""The revisions a database needs, read without Alembic or SQLAlchemy.

Every process that opens a database compares the revisions it is at (one query:
:data:`VERSION_QUERY`) with the heads shipped with this version of sysjobs, read from the
revision files' ``revision``/``down_revision`` literals (parsed, not imported):
``sysjobs.store.migrate`` through SQLAlchemy, the CLI's read path
(``sysjobs.store.sqlite.reader``) through the standard library's ``sqlite3``.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
#: The revisions a database is at (Alembic's table).
VERSION_QUERY = f"SELECT version_num FROM {VERSION_TABLE}"


def shipped_heads() -> set[str] | None:
    """The newest revisions shipped with this version of sysjobs (None: a revision file
    this parser cannot read — ask Alembic, ``migrate.head_revisions``)."""
    graph = _revision_graph()
    if graph is None:
        return None
    revisions, parents = graph
    return revisions - parents


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
