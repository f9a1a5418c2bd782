"""The read path's factory: a quick reader for a database URL, when its backend has one.

The CLI's read commands (``docs/cli-read-path.md``) read jobs without SQLAlchemy where a
backend offers a reader of its own: SQLite, through the standard library's ``sqlite3``
(``store/sqlite/reader.py``). Like ``store/database.py`` for the engine, this is the one
module outside the backends that picks one for a URL — without importing SQLAlchemy, which
``database.py`` does. None: the engine opens the URL (another database, a URL with options,
a database to migrate or that cannot be read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sysjobs.store.sqlite.reader import SqliteReader


def quick_reader(url: str) -> SqliteReader | None:
    """A reader of the jobs at ``url`` that needs no SQLAlchemy, or None."""
    from sysjobs.store.sqlite.reader import SqliteReader, plain_sqlite_path

    path = plain_sqlite_path(url)
    return None if path is None else SqliteReader.open(path)
