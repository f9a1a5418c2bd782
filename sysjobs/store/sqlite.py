"""SQLite: the embedded default — one file, WAL, writes serialised by ``BEGIN IMMEDIATE``.

SQLite has no cross-process notification. Hints inside one process go through the
in-process hub and wake waiters at once; other processes' commits are noticed by a watcher
thread that ``stat``s the write-ahead log every few milliseconds (every commit appends to
it) and says "anything may have changed" when it moved — a few microseconds a look, against
a database read. Polling with a backoff stays behind it as the safety net.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sysjobs.store.dialect import HintSink, Listener

#: Seconds a writer waits for SQLite's write lock before giving up.
BUSY_TIMEOUT_S = 30.0
#: Poll pace: starts at the first value, doubles while idle, capped at the second.
POLL_MIN_S, POLL_MAX_S = 0.005, 0.25
#: How often the watcher looks at the write-ahead log.
WATCH_S = 0.005


class SqliteDialect:
    """The SQLite side of the seam."""

    name = "sqlite"

    def create_engine(self, url: sa.URL) -> sa.Engine:
        """A file engine with WAL and a begin event that takes the write lock for writes."""
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _on_connect)
        sa.event.listen(engine, "begin", _on_begin)
        return engine

    def notify(self, connection: sa.Connection, keys: list[str]) -> None:
        """Nothing to publish: other processes poll."""

    def listen(self, url: sa.URL, sink: HintSink) -> Listener | None:
        """Watch the file's write-ahead log for other processes' commits."""
        if not url.database or url.database == ":memory:":
            return None
        return WalWatcher(Path(f"{url.database}-wal"), sink)

    def poll_interval(self, idle_rounds: int) -> float:
        """Exponential backoff: other processes' changes are only seen by re-reading."""
        return float(min(POLL_MAX_S, POLL_MIN_S * (2 ** min(idle_rounds, 16))))


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Hand transaction control to SQLAlchemy and set the pragmas every connection needs."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_begin(connection: sa.Connection) -> None:
    """Reads begin deferred; writes take the lock now so they never fail on upgrade."""
    if connection.get_execution_options().get("sysjobs_read"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class WalWatcher:
    """A daemon thread that hints ``*`` whenever the write-ahead log changes."""

    def __init__(self, wal: Path, sink: HintSink) -> None:
        self._wal = wal
        self._sink = sink
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sysjobs-wal-watch", daemon=True)
        self._thread.start()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._wal)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _run(self) -> None:
        seen = self._signature()
        while not self._closed.wait(WATCH_S):
            now = self._signature()
            if now != seen:
                seen = now
                self._sink(["*"])

    def close(self) -> None:
        """Stop watching."""
        self._closed.set()
        self._thread.join(timeout=1.0)
