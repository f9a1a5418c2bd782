"""PostgreSQL via psycopg 3: shared by worker processes on many machines.

Hints travel by ``NOTIFY`` on one channel, sent inside the writing transaction so they are
delivered only after commit. They are hints, never the truth: waiters always re-read the row,
and a slow poll stands behind them for lost notifications (reconnects, ``notify=False``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from sysjobs.store.dialect import Ending, HintSink, Listener, column_defaults
from sysjobs.store.search import SEARCHED_CHARS, searched

if TYPE_CHECKING:
    from sysjobs.store.backend import JobBackend
    from sysjobs.store.database import Database
    from sysjobs.store.rows import Now

log = logging.getLogger(__name__)

CHANNEL = "sysjobs"
#: Serialises concurrent upgrades of one database (several processes starting).
UPGRADE_LOCK_KEY = 0x5157_4A6F_6273
#: NOTIFY payloads must stay under 8000 bytes; beyond this we just say "anything changed".
MAX_PAYLOAD = 4000
#: A pooled connection idle this long (seconds) is pinged before it is handed out.
PING_AFTER_IDLE_S = 0.5
#: The poll standing behind notifications (seconds), and without them.
POLL_WITH_HINTS_S, POLL_WITHOUT_HINTS_S = 0.5, 0.05


@functools.cache
def _bulk_insert_sql(table: str, columns: str) -> str:
    """The INSERT of one JSON array of rows (psycopg's ``%s`` placeholder)."""
    return (
        f'INSERT INTO "{table}" ({columns}) SELECT {columns} '
        f'FROM json_populate_recordset(NULL::"{table}", CAST(%s AS json))'
    )


def _bulk_insert(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> tuple[str, tuple[str]]:
    """The statement and its one parameter (a JSON array) that insert ``rows``."""
    defaults = column_defaults(table, rows[0].keys())
    names = [c.name for c in table.columns if c.name in rows[0] or c.name in defaults]
    payload = json.dumps([{**defaults, **r} for r in rows], separators=(",", ":"),
                         default=_json_time)  # fmt: skip
    return _bulk_insert_sql(table.name, ", ".join(f'"{n}"' for n in names)), (payload,)


def _json_time(value: object) -> str:
    """A ``datetime`` in the JSON array of a bulk insert: ISO 8601, which the server reads
    into a ``timestamptz`` column at the same microsecond (records' creation times)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class PostgresDialect:
    """The PostgreSQL side of the seam."""

    name = "postgresql"

    def __init__(self, *, hints: bool = True) -> None:
        self.hints = hints

    def serves(self, url: sa.URL) -> bool:
        """``postgresql://…`` (any driver name; psycopg 3 is used)."""
        return url.get_backend_name() == self.name

    def create_engine(self, url: sa.URL) -> sa.Engine:
        """A pooled psycopg 3 engine whose idle connections are pinged before use."""
        url = url.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(url, pool_size=10, max_overflow=20)
        sa.event.listen(engine, "checkin", _note_idle)
        sa.event.listen(engine, "checkout", _ping_if_idle)
        return engine

    def end_write(self, connection: sa.Connection, ending: Ending) -> None:
        """``ending``'s statements and rows, ``pg_notify`` and the COMMIT in one round trip.

        They go through psycopg's pipeline on the driver connection, so the server gets
        them together (a job's finishing transaction made eight round trips; these were
        four). SQLAlchemy still executes the statements (none of them reads a result). The
        transaction is then committed, and SQLAlchemy's own commit finds nothing to do. A
        failure raises here, inside the ``write()`` block, as the SQLAlchemy error it would
        have been (a lost connection is invalidated, as SQLAlchemy would); the hint is
        delivered only if the COMMIT succeeds.
        """
        statements = [(s, list(p)) for s, p in ending.statements if p]
        inserts = [(table, rows) for table, rows in ending.inserts if rows]
        keys = ending.keys if self.hints else []
        if not statements and not inserts and not keys:
            return
        import psycopg  # (here, not at the top: a process on SQLite never loads the driver)

        raw = connection.connection.driver_connection
        assert raw is not None
        try:
            with raw.pipeline():
                for statement, params in statements:
                    connection.execute(statement, params)
                for table, rows in inserts:
                    raw.execute(*_bulk_insert(table, rows))
                if keys:
                    raw.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(keys)))
                raw.commit()
        except psycopg.Error as exc:
            lost = connection.dialect.is_disconnect(exc, raw, None)  # type: ignore[arg-type]
            if lost:
                connection.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                "COMMIT", None, exc, psycopg.Error, connection_invalidated=lost
            ) from exc

    def listen(self, url: sa.URL, sink: HintSink) -> Listener | None:
        """A daemon thread on its own connection, reconnecting with backoff."""
        if not self.hints:
            return None
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PgListener(conninfo, sink)

    def insert_rows(
        self, connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """One ``INSERT … SELECT … FROM json_populate_recordset`` for all the rows.

        psycopg's ``executemany`` sends one INSERT per row (pipelined): for an enqueue of
        1,000 jobs that is 3,000 statements for the server to run while the workers drain on
        the same cores. The rows travel as one JSON array instead; the server turns it into
        typed rows (a json column takes the nested value as it is).
        """
        if rows:
            connection.exec_driver_sql(*_bulk_insert(table, rows))

    def poll_interval(self, idle_rounds: int) -> float:
        """Hints do the waking; the poll is only a safety net."""
        return POLL_WITH_HINTS_S if self.hints else POLL_WITHOUT_HINTS_S

    def writer_lock(self) -> AbstractContextManager[Any]:
        """Nothing: writers of one process run side by side, row locks order them."""
        return nullcontext()

    def backend(self, db: Database, now: Now) -> JobBackend:
        """Claims and ends as one call of the server function (``postgres/leases.py``),
        its hints on the channel unless hints are off."""
        from sysjobs.store.postgres.leases import PostgresBackend

        return PostgresBackend(db, now, channel=CHANNEL if self.hints else None)

    def reads_in_autocommit(self) -> bool:
        """Yes: at READ COMMITTED each statement of a read transaction takes its own
        snapshot anyway, so the transaction only added a BEGIN and a ROLLBACK round trip
        to every read (three for a one-statement read: a record job's chunk scan and stop
        check each, per chunk). A read with a time bound keeps its transaction, which
        scopes its ``statement_timeout``."""
        return True

    def estimates_ranges(self) -> bool:
        """Yes: column histograms."""
        return True

    def bound_statements(self, connection: sa.Connection, seconds: float) -> Callable[[], None]:
        """``statement_timeout`` for the rest of this transaction (``set_config(…, true)``
        is ``SET LOCAL`` with a bound parameter): the server cancels a statement past it."""
        ms = max(1, int(seconds * 1000))
        connection.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                           {"ms": str(ms)})  # fmt: skip
        return lambda: None

    def contains_ignoring_case(
        self, column: sa.ColumnElement[str], text: str
    ) -> sa.ColumnElement[bool]:
        """``ILIKE`` (``icontains``), which ``ix_job_logs_message_trgm`` serves; a text longer
        than the searched part (``store/search.py``) is tested on that part again. Written as
        an ``OR`` on ``octet_length`` (read from the value's header), the recheck leaves the
        planner's estimate — and so its choice of index — as it was."""
        whole, head = column.icontains(text, autoescape=True), searched(column)
        short = sa.func.octet_length(column) <= SEARCHED_CHARS
        return sa.and_(whole, sa.or_(short, head.icontains(text, autoescape=True)))

    def shared_by_processes(self, url: sa.URL) -> bool:
        """Always: a server."""
        return True

    def lock_for_migration(self, connection: sa.Connection) -> None:
        """A transaction-level advisory lock: the second process waits, then finds the
        database current."""
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK_KEY})


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections idle ``PING_AFTER_IDLE_S`` or more.

    A restarted server cuts every connection; a ping on checkout finds a dead one and the
    pool replaces it before the transaction starts. Pinging on *every* checkout cost a
    round trip per transaction, though, while a busy worker gets its connection back
    within milliseconds. A connection that dies in that window fails its first statement
    instead, which is a database error the callers already survive (the server can always
    die mid-transaction), and SQLAlchemy then invalidates the whole pool.
    """
    import psycopg

    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except psycopg.Error as exc:
        raise sa.exc.DisconnectionError(f"ping failed: {exc}") from exc


def _payload(keys: list[str]) -> str:
    """The hint's keys, once each; ``*`` when they would not fit in a notification."""
    payload = ",".join(dict.fromkeys(keys))
    return "*" if len(payload) > MAX_PAYLOAD else payload


class PgListener:
    """``LISTEN sysjobs`` on a dedicated autocommit connection, in a daemon thread."""

    def __init__(self, conninfo: str, sink: HintSink) -> None:
        self._conninfo = conninfo
        self._sink = sink
        self._closed = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sysjobs-pg-listen", daemon=True)
        self._thread.start()
        self.ready.wait(5.0)

    def close(self) -> None:
        """Ask the thread to stop; it notices within one receive timeout."""
        self._closed.set()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        import psycopg

        backoff = 0.1
        while not self._closed.is_set():
            try:
                self._listen_once()
                backoff = 0.1
            except psycopg.Error as exc:
                log.warning("sysjobs: LISTEN connection lost (%s); retrying in %.1fs", exc, backoff)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _listen_once(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.ready.set()
            self._sink(["*"])  # anything may have changed while we were not listening
            while not self._closed.is_set():
                for notification in conn.notifies(timeout=0.1):
                    self._sink(notification.payload.split(","))
