"""SQLite: a writer waits for another connection's write lock in short steps, then writes.

The busy timeout is lifted only for the ``BEGIN IMMEDIATE``; every later statement of the
connection still has SQLite's own handler.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sysjobs.store.database import Database
from sysjobs.store.sqlite.dialect import BUSY_TIMEOUT_S


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'lock.db'}", hints=False)
    database.migrate()
    return database


def test_a_write_waits_for_a_lock_another_connection_holds_and_then_commits(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "lock.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    commit = threading.Timer(0.2, other.execute, args=("COMMIT",))
    commit.start()
    with db.write() as tx:
        timeout_ms = tx.connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        tx.connection.exec_driver_sql("CREATE TABLE waited (x INTEGER)")
    assert timeout_ms == int(BUSY_TIMEOUT_S * 1000)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM waited").scalar() == 0
    commit.join()  # COMMIT frees the lock before its call returns: close only after that
    other.close()
    db.close()
