"""SQLite's write-ahead-log watch: every commit of another connection is heard."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from sysjobs.store.sqlite import dialect


def _wal_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    return conn


def test_a_commit_made_before_the_watch_thread_first_runs_is_still_heard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load the watch thread may first run after a commit; it must not take that
    commit's log as its starting point (the hint would be lost until the next commit)."""
    path = tmp_path / "w.db"
    conn = _wal_db(path)
    heard = threading.Event()
    late: list[threading.Thread] = []

    class LateThread(threading.Thread):
        def start(self) -> None:  # started below, after the commit: a descheduled thread
            late.append(self)

    def sink(keys: Sequence[str]) -> None:
        heard.set()

    monkeypatch.setattr(dialect.threading, "Thread", LateThread)
    watcher = dialect.WalWatcher(Path(f"{path}-wal"), sink)
    monkeypatch.undo()
    conn.execute("INSERT INTO t VALUES (1)")
    threading.Thread.start(late[0])
    try:
        assert heard.wait(60)
    finally:
        watcher.close()
        conn.close()
