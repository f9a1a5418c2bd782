"""SQLite: the embedded default — one file, WAL, writes serialised by ``BEGIN IMMEDIATE``.

Only a connection ``Database.write`` marks begins ``IMMEDIATE``; every other one — every
read — begins deferred, and in WAL mode a deferred reader reads its snapshot without ever
waiting for the write lock, however long another connection (or process) holds it.

SQLite has no cross-process notification. Hints inside one process go through the
in-process hub and wake waiters at once; other processes' commits are noticed by a watcher
thread that ``stat``s the write-ahead log every few milliseconds (every commit appends to
it) and says "anything may have changed" when it moved — a few microseconds a look, against
a database read. Polling with a backoff stays behind it as the safety net.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sysjobs.store.dialect import WRITE_OPTION, Ending, HintSink, Listener, column_defaults
from sysjobs.store.search import searched

#: SQLite VM steps between two checks of a statement's deadline: a few rows of a scan (one
#: LIKE over one long text is one step, so a single row is the unit that cannot be cut).
_PROGRESS_STEPS = 200

if TYPE_CHECKING:
    from sysjobs.store.backend import JobBackend
    from sysjobs.store.database import Database
    from sysjobs.store.rows import Now

#: Seconds a writer waits for SQLite's write lock before giving up.
BUSY_TIMEOUT_S = 30.0
#: The wait between tries for the write lock held by another process: from, up to.
_LOCK_PAUSE_MIN_S, _LOCK_PAUSE_MAX_S = 0.0001, 0.0005
#: Poll pace: starts at the first value, doubles while idle, capped at the second.
POLL_MIN_S, POLL_MAX_S = 0.005, 0.25
#: How often the watcher looks at the write-ahead log.
WATCH_S = 0.005


class SqliteDialect:
    """The SQLite side of the seam."""

    name = "sqlite"

    def __init__(self) -> None:
        #: Per (table, the rows' keys): its insert (see :meth:`insert_rows`).
        self._insert_plans: dict[tuple[sa.Table, tuple[str, ...]], _InsertPlan] = {}

    def serves(self, url: sa.URL) -> bool:
        """``sqlite:///file``."""
        return url.get_backend_name() == self.name

    def create_engine(self, url: sa.URL) -> sa.Engine:
        """A file engine with WAL and a begin event that takes the write lock for writes."""
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _on_connect)
        sa.event.listen(engine, "begin", _on_begin)
        return engine

    def end_write(self, connection: sa.Connection, ending: Ending) -> None:
        """The statements and rows kept for the end; no hint to publish (others poll)."""
        for statement, params in ending.statements:
            if params:
                connection.execute(statement, list(params))
        for table, rows in ending.inserts:
            self.insert_rows(connection, table, rows)

    def listen(self, url: sa.URL, sink: HintSink) -> Listener | None:
        """Watch the file's write-ahead log for other processes' commits."""
        if not url.database or url.database == ":memory:":
            return None
        return WalWatcher(Path(f"{url.database}-wal"), sink)

    def insert_rows(
        self, connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """``executemany`` of plain tuples: SQLite's own loop of inserts, in C.

        SQLAlchemy's ``execute(table.insert(), rows)`` builds each row's parameters through
        its compiled statement (a third of a ``sys.data.save`` loop's group commit); the
        statement and each column's bind processor (the very functions SQLAlchemy would
        call: JSON encoding, datetime formatting) are looked up once per table and keys
        instead, and a row is one tuple. Columns missing from the rows take their
        client-side defaults, as with ``insert()``.
        """
        if rows:  # an empty list would insert one row of defaults
            plan = self._insert_plan(connection.dialect, table, tuple(rows[0]))
            connection.exec_driver_sql(plan.sql, plan.params(rows))

    def _insert_plan(
        self, dialect: sa.Dialect, table: sa.Table, keys: tuple[str, ...]
    ) -> _InsertPlan:
        """The insert of ``keys`` into ``table``, built once (the tables are fixed)."""
        plan = self._insert_plans.get((table, keys))
        if plan is None:
            plan = self._insert_plans[(table, keys)] = _InsertPlan.of(dialect, table, keys)
        return plan

    def poll_interval(self, idle_rounds: int) -> float:
        """Exponential backoff: other processes' changes are only seen by re-reading."""
        return float(min(POLL_MAX_S, POLL_MIN_S * (2 ** min(idle_rounds, 16))))

    def writer_lock(self) -> AbstractContextManager[Any]:
        """One writer at a time, and a writer that finds the lock taken sleeps in SQLite's
        busy handler (1, 2, 5, 10 … ms). Threads of one process queue here instead and
        start the moment the previous write commits; other processes still meet the busy
        handler."""
        return threading.RLock()

    def backend(self, db: Database, now: Now) -> JobBackend:
        """Claims and ends as statements under the write lock (``sqlite/leases.py``)."""
        from sysjobs.store.sqlite.leases import SqliteBackend

        return SqliteBackend(db, now)

    def reads_in_autocommit(self) -> bool:
        """No: a read is a deferred transaction, one snapshot for all its statements (and
        in process, a BEGIN costs no round trip)."""
        return False

    def estimates_ranges(self) -> bool:
        """No: ``sqlite_stat1`` only (no ``STAT4`` in Python's build), no histograms."""
        return False

    def bound_statements(self, connection: sa.Connection, seconds: float) -> Callable[[], None]:
        """A progress handler, called every few thousand VM steps, interrupts a statement
        once the time is spent (a ``LIKE`` over long text cannot run past a script's
        deadline while holding the GIL)."""
        raw: Any = connection.connection.driver_connection
        until = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > until), _PROGRESS_STEPS)
        return lambda: raw.set_progress_handler(None, 0)

    def contains_ignoring_case(
        self, column: sa.ColumnElement[str], text: str
    ) -> sa.ColumnElement[bool]:
        """A plain ``LIKE`` (``contains``): SQLite's LIKE already ignores case, for ASCII
        letters only — exactly what ``icontains``' ``lower(message) LIKE lower(text)``
        does here, since SQLite's ``lower()`` folds ASCII only too. Skipping ``lower()`` on
        every line halves a log page's walk along ``ix_job_logs_job_ts``: "duplicate" (one
        line in 1,000) on a job with 1M lines, 12.3 ms → 6.2 ms, and ``count()`` alike.
        Only the text's first characters are searched (``store/search.py``)."""
        return searched(column).contains(text, autoescape=True)

    def shared_by_processes(self, url: sa.URL) -> bool:
        """A file is; an in-memory database lives and dies with its connection."""
        return url.database not in (None, "", ":memory:")

    def lock_for_migration(self, connection: sa.Connection) -> None:
        """Nothing more: the migration's transaction begins ``IMMEDIATE`` (the write lock)."""


@dataclass(frozen=True)
class _InsertPlan:
    """An ``INSERT`` of the rows' keys plus the defaulted columns, and how a value binds."""

    sql: str
    #: The rows' values in column order, in one call.
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    #: The positions whose column has a bind processor, and that processor.
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]
    #: The defaulted columns' values, already bound (the same for every row).
    defaults: tuple[Any, ...]

    @staticmethod
    def of(dialect: sa.Dialect, table: sa.Table, keys: tuple[str, ...]) -> _InsertPlan:
        def bound(column: sa.Column[Any], value: Any) -> Any:
            processor = column.type._cached_bind_processor(dialect)
            return value if processor is None else processor(value)

        given = [table.c[k] for k in keys]
        defaults = column_defaults(table, keys)
        defaulted = [c for c in table.columns if c.name in defaults]
        names = ", ".join(f'"{c.name}"' for c in [*given, *defaulted])
        marks = ", ".join("?" for _ in [*given, *defaulted])
        processors = [_processor(dialect, c) for c in given]
        getter = itemgetter(*keys)
        return _InsertPlan(
            sql=f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
            values=getter if len(keys) > 1 else lambda row: (getter(row),),
            processed=tuple((i, p) for i, p in enumerate(processors) if p is not None),
            defaults=tuple(bound(c, defaults[c.name]) for c in defaulted),
        )

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row as the tuple the driver binds, through the columns' processors."""
        values, processed, defaults = self.values, self.processed, self.defaults
        out: list[tuple[Any, ...]] = []
        for row in rows:
            bound = list(values(row))
            for i, processor in processed:
                bound[i] = processor(bound[i])
            out.append((*bound, *defaults))
        return out


def _processor(dialect: sa.Dialect, column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """``column``'s bind processor; for a JSON column, one that writes a map the way
    SQLAlchemy's would (``json.dumps`` with its defaults) through a C encoder made once —
    ``json.dumps`` makes a new one per value, which was most of the cost of encoding a
    listener job's data. Without the circular-reference table: a map that contains itself
    ends in ``RecursionError`` instead of ``ValueError`` (neither is stored)."""
    processor = column.type._cached_bind_processor(dialect)
    json_type = isinstance(column.type.dialect_impl(dialect), sa.JSON)
    serializer = getattr(dialect, "_json_serializer", None)
    make = getattr(json.encoder, "c_make_encoder", None)
    if processor is None or not json_type or serializer is not None or make is None:
        return processor
    chunks = make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                  None, ": ", ", ", False, False, True)  # json.dumps' defaults  # fmt: skip
    generic = processor

    def process(value: Any) -> Any:
        return "".join(chunks(value, 0)) if type(value) is dict else generic(value)

    return process


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Hand transaction control to SQLAlchemy and set the pragmas every connection needs."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_begin(connection: sa.Connection) -> None:
    """Writes (``Database.write``) take the lock now so they never fail on upgrade; every
    other transaction begins deferred, so a read never waits for the write lock."""
    if connection.get_execution_options().get(WRITE_OPTION):
        _begin_immediate(connection.connection.driver_connection)
    else:
        connection.exec_driver_sql("BEGIN")


def _begin_immediate(raw: Any) -> None:
    """Take the write lock, waiting for another process's writer in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15… ms between tries, while a sysjobs
    write holds the lock for well under a millisecond: two busy worker processes spent
    most of their time asleep. Here the wait starts at 0.1 ms and doubles up to 0.5 ms
    (the same overall limit, ``BUSY_TIMEOUT_S``): with a 5 ms cap two worker processes
    left a fifth of the CPU idle (1,600 -> 1,800 jobs/s when lowered to 0.5 ms, measured in
    ``bench/``; 0.2 ms was no better). The busy timeout is off only for the
    ``BEGIN IMMEDIATE`` itself, so every other statement keeps SQLite's handler.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = _LOCK_PAUSE_MIN_S
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LOCK_PAUSE_MAX_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


class WalWatcher:
    """A daemon thread that hints ``*`` whenever the write-ahead log changes."""

    def __init__(self, wal: Path, sink: HintSink) -> None:
        self._wal = wal
        self._sink = sink
        self._closed = threading.Event()
        # The baseline is taken here, not in the thread: a thread scheduled late would take
        # a commit made meanwhile as its baseline and never hint it.
        self._seen = self._signature()
        self._thread = threading.Thread(target=self._run, name="sysjobs-wal-watch", daemon=True)
        self._thread.start()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._wal)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _run(self) -> None:
        seen = self._seen
        while not self._closed.wait(WATCH_S):
            now = self._signature()
            if now != seen:
                seen = now
                self._sink(["*"])

    def close(self) -> None:
        """Stop watching."""
        self._closed.set()
        self._thread.join(timeout=1.0)
