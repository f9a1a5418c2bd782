"""Freeze a worker process (SIGSTOP) at a moment it holds no transaction.

A process frozen inside a write transaction keeps its locks: the reaper skips its rows
(``SKIP LOCKED``) and a test's own write lock waits. Freezing it, checking, and thawing it
for another try until it is frozen outside its writes makes such scenarios exact instead
of depending on where the signal happened to land.
"""

from __future__ import annotations

import os
import signal
import time

import sqlalchemy as sa


def freeze_outside_writes(url: str, pid: int) -> None:
    """SIGSTOP the worker at a moment it is in no transaction (else thaw and retry), so
    that the test can then take the write lock without thawing it again."""
    for _ in range(100):
        os.kill(pid, signal.SIGSTOP)
        if not _busy(url):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the worker never left its transactions")


def _busy(url: str) -> bool:
    """Whether another connection holds SQLite's write lock / has a PostgreSQL transaction."""
    if url.startswith("sqlite"):
        import sqlite3

        probe = sqlite3.connect(sa.make_url(url).database or "", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    db = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with db.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )).scalar_one())  # fmt: skip
    finally:
        db.dispose()
