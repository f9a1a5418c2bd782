"""SQLite: a writer waits for another connection's write lock in short steps, then writes.

The busy timeout is lifted only for the ``BEGIN IMMEDIATE``; every later statement of the
connection still has SQLite's own handler.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sysjobs.jobs import Engine
from sysjobs.store.database import Database
from sysjobs.store.sqlite.dialect import BUSY_TIMEOUT_S
from tests.integration.engine.jobtypes import register


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


def test_a_claim_with_no_pending_job_takes_no_write_lock(tmp_path: Path) -> None:
    """Another connection holds the write lock (as a busy job's commit does): a claim that
    has nothing to lease answers at once instead of queueing for the lock; once a job is
    pending, the claim takes the lock and leases it."""
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    with Engine.open(url) as engine:
        register(engine)
        other = sqlite3.connect(tmp_path / "claims.db", isolation_level=None,
                                check_same_thread=False)  # fmt: skip
        other.execute("BEGIN IMMEDIATE")
        try:
            assert engine.leases.claim("w", limit=4, types=["NOOP"], queues=["mix"]) == []
        finally:
            other.execute("COMMIT")
            other.close()
        job = engine.enqueue("NOOP", {})
        [claimed] = engine.leases.claim("w", limit=4, types=["NOOP"], queues=["mix"])
        assert claimed.lease.job_id == job.id
