"""One database handle: the engine, its dialect, and the two kinds of transaction.

``write()`` begins a transaction that may change rows and collects the hint keys of what it
changed, and rows kept for its end (the audit trail); the dialect ends it — those rows, the
hint (PostgreSQL ``NOTIFY``) and the commit — and the hint is handed to the in-process sink
right after commit, so waiters in this process wake without a round trip.
``read()`` is a plain snapshot read: on SQLite it begins deferred and, in WAL mode, never
waits for the write lock. Every store — the engine's and the app's (records, files, users,
app state) — goes through these two, so app writes queue with job writes on the same
writer path and no read anywhere takes the write lock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sysjobs.errors import Timeout
from sysjobs.store import migrate
from sysjobs.store.dialect import WRITE_OPTION, Dialect, Ending, HintSink, Listener
from sysjobs.store.postgres.dialect import PostgresDialect
from sysjobs.store.rows import Now
from sysjobs.store.schema import declare_dialect_options
from sysjobs.store.sqlite.dialect import SqliteDialect
from sysjobs.store.urls import DEFAULT_URL

if TYPE_CHECKING:
    from sysjobs.store.backend import JobBackend



def normalize_url(url: str | None) -> sa.URL:
    """Accept ``sqlite:///file``, ``postgresql://…``/``postgres://…`` (psycopg 3 implied)."""
    text = url or DEFAULT_URL
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    parsed = sa.make_url(text)
    dialect_for(parsed)  # (raises for any other database)
    return parsed


def dialect_for(url: sa.URL, *, hints: bool = True) -> Dialect:
    """The seam implementation for ``url``: the first dialect that serves it."""
    for dialect in (SqliteDialect(), PostgresDialect(hints=hints)):
        if dialect.serves(url):
            return dialect
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


class Tx:
    """A write transaction's connection plus the hint keys of what it changed."""

    def __init__(self, connection: sa.Connection, dialect: Dialect) -> None:
        self.connection = connection
        #: The database's seam, for the few statements that differ.
        self.dialect = dialect
        self.ending = Ending()

    @property
    def keys(self) -> list[str]:
        """The hint keys said so far."""
        return self.ending.keys

    def hint(self, *keys: str) -> None:
        """Say that these keys changed (``job:<id>``, ``work`` for new pending jobs)."""
        self.ending.keys.extend(keys)

    def execute_at_end(
        self, statement: sa.Executable, params: Sequence[Mapping[str, Any]]
    ) -> None:
        """Execute ``statement`` for each of ``params`` as the transaction ends, with its
        commit — for writes nothing in the transaction reads back (PostgreSQL sends them in
        the commit's round trip)."""
        self.ending.statements.append((statement, params))

    def insert_at_end(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` as the transaction ends, after the statements (an audit trail)."""
        self.ending.inserts.append((table, rows))


class Database:
    """The engine of one URL, with write/read transactions and hint plumbing."""

    def __init__(self, url: str | None, *, hints: bool = True) -> None:
        self.url = normalize_url(url)
        self.dialect = dialect_for(self.url, hints=hints)
        self.engine = self.dialect.create_engine(self.url)
        declare_dialect_options(self.dialect.name)  # the schema's indexes, on this database
        self.local_sink: HintSink | None = None
        self._listener: Listener | None = None
        self._listening = False
        self._listen_lock = threading.Lock()
        # What this process's writers queue on (see the dialects' ``writer_lock``).
        self._writers = self.dialect.writer_lock()
        #: The deadline reads of this thread stop at (:meth:`statements_until`).
        self._deadline = threading.local()
        #: The joinable write transaction this thread has open (``tx``): a nested one joins.
        self._open = threading.local()
        self._closed = False
        #: Commits of this process per table written (:meth:`table_version`).
        self._written: Counter[str] = Counter()
        self._written_lock = threading.Lock()
        #: Tables whose writes are hinted to every process (:meth:`announce_writes`).
        self._announced: frozenset[str] = frozenset()
        sa.event.listen(self.engine, "checkin", self._close_if_closed)
        sa.event.listen(self.engine, "after_execute", _note_written)

    @property
    def name(self) -> str:
        """``sqlite`` or ``postgresql`` (for people and reports; code asks the dialect)."""
        return self.dialect.name

    @property
    def shared_by_processes(self) -> bool:
        """Whether worker processes can open this database (not an in-memory SQLite)."""
        return self.dialect.shared_by_processes(self.url)

    def backend(self, now: Now) -> JobBackend:
        """The engine's contract on this database (``store/backend.py``), its writes timed
        by ``now`` — the one place a backend is chosen."""
        return self.dialect.backend(self, now)

    def migrate(self) -> None:
        """Apply every pending revision (no-op when already current)."""
        if not migrate.is_current(self.engine):
            migrate.upgrade(self.engine, dialect=self.dialect)

    @contextmanager
    def write(self, *, joinable: bool = False) -> Iterator[Tx]:
        """A write transaction; hints go out with the commit and to this process after it.

        On SQLite it begins ``IMMEDIATE`` (the write lock is held from the first line of
        the block, so a time read there is ordered with every other write).

        ``joinable``: a ``write()`` opened inside this block on the same thread joins it —
        its statements commit (or roll back) with this block's, its hints go out with that
        commit. How a record and the listener jobs it starts are written together. Opt-in:
        a writer that recovers from a failed statement (an upsert catching a duplicate)
        must not run inside someone else's transaction, which that failure would abort.
        """
        joined: Tx | None = getattr(self._open, "tx", None)
        if joined is not None:
            yield joined
            return
        with self._writers, self.engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            try:
                with connection.begin():
                    tx = Tx(connection, self.dialect)
                    if joinable:
                        self._open.tx = tx
                    try:
                        yield tx
                    finally:
                        self._open.tx = None
                    tx.hint(*self._announced_keys(connection))
                    self.dialect.end_write(connection, tx.ending)
            finally:
                written = connection.info.pop(WRITTEN_INFO, None)
        if written:  # (only a commit gets here)
            with self._written_lock:
                self._written.update(written)
        if tx.keys and self.local_sink is not None:
            self.local_sink(tx.keys)

    @contextmanager
    def autocommit(self) -> Iterator[sa.Connection]:
        """A connection whose every statement is its own transaction: a server function
        that writes and notifies costs one round trip (no BEGIN, no COMMIT of its own).
        Say what it changed with :meth:`publish_local` once it returned."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    def publish_local(self, keys: list[str]) -> None:
        """Hand the keys of a committed change to this process's waiters (``write()``
        does it itself after its commit)."""
        if keys and self.local_sink is not None:
            self.local_sink(keys)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only snapshot, rolled back at the end (on SQLite a deferred transaction,
        which never waits for another connection's write lock; on PostgreSQL, outside
        :meth:`statements_until`, each statement in autocommit — its own snapshot, as at
        READ COMMITTED in a transaction, without the BEGIN and ROLLBACK round trips). Within
        :meth:`statements_until`, its statements stop at that deadline (``Timeout``)."""
        with self.engine.connect() as connection, self._bounded(connection) as bounded:
            if not bounded and self.dialect.reads_in_autocommit():
                connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    @contextmanager
    def statements_until(self, deadline: float) -> Iterator[None]:
        """Reads this thread starts inside the block stop at ``deadline`` (a
        ``time.monotonic()`` value: a script's), whatever they scan — a host call that
        runs a query must not outlive the script that made it."""
        previous = getattr(self._deadline, "at", None)
        self._deadline.at = deadline
        try:
            yield
        finally:
            self._deadline.at = previous

    @contextmanager
    def _bounded(self, connection: sa.Connection) -> Iterator[bool]:
        """Bound the statements by this thread's deadline, if it has one (then True)."""
        deadline: float | None = getattr(self._deadline, "at", None)
        if deadline is None:
            yield False
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("The script's time limit was reached before a database query.")
        lift = self.dialect.bound_statements(connection, left)
        try:
            yield True
        except sa.exc.OperationalError as exc:
            if time.monotonic() < deadline:
                raise
            raise Timeout("The script's time limit was reached during a database query.") from exc
        finally:
            lift()

    def listen(self, sink: HintSink) -> None:
        """Feed other processes' hints into ``sink`` (PostgreSQL only; SQLite polls).

        Idempotent and thread-safe: the first caller starts the listener and returns once
        it listens.
        """
        if self._listening:
            return
        with self._listen_lock:
            if not self._listening:
                self._listener = self.dialect.listen(self.url, sink)
                self._listening = True

    def announce_writes(self, table: str) -> None:
        """Hint ``table:<name>`` with every commit that writes ``table``, so other processes
        (PostgreSQL NOTIFY; SQLite's WAL watch hears every commit anyway) learn that a cache
        of it is stale. For small, rarely written tables (the app's status), never the jobs'.
        """
        self._announced = self._announced | {table}

    def _announced_keys(self, connection: sa.Connection) -> list[str]:
        written = connection.info.get(WRITTEN_INFO) or ()
        return [f"table:{name}" for name in sorted(self._announced.intersection(written))]

    def table_version(self, table: str) -> int:
        """How many of this process's write transactions that wrote ``table`` have
        committed: a cache of something read from it (the app's status) stays valid while
        this number — and, for other processes' writes, the hints heard — do not move."""
        with self._written_lock:
            return self._written[table]

    @property
    def hears_others(self) -> bool:
        """Whether other processes' commits reach this process as hints (a listener runs:
        PostgreSQL LISTEN, SQLite's write-ahead-log watch) — then a re-read is only a safety
        net and may be slow."""
        return self._listener is not None

    def poll_interval(self, idle_rounds: int) -> float:
        """The dialect's re-read pace."""
        return self.dialect.poll_interval(idle_rounds)

    def close(self) -> None:
        """Stop listening and dispose of the pool.

        A thread still in a transaction (a job's thread a forced stop abandoned, a timer)
        hands its connection back later, to the disposed pool, which would keep it open
        until the garbage collector finds it: :meth:`_close_if_closed` closes it instead.
        """
        self._closed = True
        with self._listen_lock:
            self._listening = True  # (a closed database starts no listener)
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self.engine.dispose()

    def _close_if_closed(self, dbapi_connection: Any, _record: Any) -> None:
        """Pool ``checkin`` hook: once the database is closed, a connection handed back is
        closed rather than kept."""
        if self._closed and dbapi_connection is not None:
            dbapi_connection.close()


#: Where a write connection collects the tables its statements wrote (``Connection.info``).
WRITTEN_INFO = "sysjobs_written_tables"


def _note_written(connection: sa.Connection, statement: Any, *_args: Any) -> None:
    """Remember the table an INSERT/UPDATE/DELETE of a write transaction wrote."""
    if isinstance(statement, sa.sql.dml.UpdateBase) and connection.get_execution_options().get(
        WRITE_OPTION
    ):
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if isinstance(name, str):
            connection.info.setdefault(WRITTEN_INFO, set()).add(name)
