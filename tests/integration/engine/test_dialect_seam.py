"""The per-database seam under a write transaction: an empty batch inserts nothing, rows
kept for the end of a write are inserted with it, and on PostgreSQL those rows and the hint go
out with the COMMIT (one round trip) — delivered, and the rows visible, only when the write
commits; a pooled PostgreSQL connection is pinged only after it sat idle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

import psycopg
import pytest
import sqlalchemy as sa

from sysjobs.jobs import Engine, new_owner
from sysjobs.store.postgres.dialect import CHANNEL, PING_AFTER_IDLE_S
from sysjobs.store.schema import job_events
from tests.integration.engine.helpers import once_waiting, open_engine
from tests.integration.engine.jobtypes import register

PG_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url) as engine:
        yield engine


def _event_count(eng: Engine) -> int:
    with eng.database.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(job_events)).scalar_one())


def test_inserting_no_rows_inserts_nothing(eng: Engine) -> None:
    before = _event_count(eng)
    with eng.database.write() as tx:
        eng.database.dialect.insert_rows(tx.connection, job_events, [])
        tx.insert_at_end(job_events, [])
    assert _event_count(eng) == before


def test_rows_kept_for_the_end_are_inserted_with_the_commit(eng: Engine) -> None:
    job_id = eng.enqueue("NOOP", {}).id
    before = _event_count(eng)
    with eng.database.write() as tx:
        tx.insert_at_end(job_events, [_event(job_id, "RUNNING"), _event(job_id, "FINISHED")])
    assert _event_count(eng) == before + 2
    with pytest.raises(RuntimeError), eng.database.write() as tx:
        tx.insert_at_end(job_events, [_event(job_id, "PENDING")])
        raise RuntimeError("the body failed")
    assert _event_count(eng) == before + 2


def _event(job_id: str, status: str) -> dict[str, object]:
    return {"job_id": job_id, "at_ms": 1, "from_status": None, "to_status": status,
            "attempt": 0, "owner": None, "reason": None}  # fmt: skip


@pytest.fixture
def listener(eng: Engine) -> Iterator[psycopg.Connection]:
    url = eng.database.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def _received(conn: psycopg.Connection, timeout_s: float = 1.0) -> list[str]:
    """The first payloads that arrive within ``timeout_s`` (none: an empty list)."""
    deadline = time.monotonic() + timeout_s
    payloads: list[str] = []
    while time.monotonic() < deadline and not payloads:
        payloads += [n.payload for n in conn.notifies(timeout=0.1, stop_after=1)]
    return payloads


def _job(eng: Engine, listener: psycopg.Connection) -> str:
    """A job to write events for; its own enqueue hint is read off the listener."""
    job_id = eng.enqueue("NOOP", {}).id
    assert any(job_id in p for p in _received(listener))
    return job_id


def _nothing_heard_before_a_later_commit(eng: Engine, listener: psycopg.Connection) -> bool:
    """Whether the hint of a write committed now is the first to arrive: notifications are
    delivered in commit order, so a hint an earlier write had sent would come before it
    (shown on the event itself, rather than by waiting out a timeout for nothing)."""
    with eng.database.write() as tx:
        tx.hint("work")
    return _received(listener, 10) == ["work"]


def _insert_event(tx_connection: sa.Connection, job_id: str) -> None:
    """An event written at once (not kept for the end)."""
    tx_connection.execute(job_events.insert(), _event(job_id, "PENDING"))


@PG_ONLY
def test_a_committed_write_sends_its_hint_and_its_rows_are_visible(
    eng: Engine, listener: psycopg.Connection
) -> None:
    job_id = _job(eng, listener)
    before = _event_count(eng)
    with eng.database.write() as tx:
        _insert_event(tx.connection, job_id)
        tx.insert_at_end(job_events, [_event(job_id, "RUNNING")])
        tx.hint(f"job:{job_id}", "work")
    assert _received(listener) == [f"job:{job_id},work"]
    assert _event_count(eng) == before + 2


@PG_ONLY
def test_a_write_that_fails_sends_no_hint_and_leaves_no_rows(
    eng: Engine, listener: psycopg.Connection
) -> None:
    job_id = _job(eng, listener)
    before = _event_count(eng)
    with pytest.raises(RuntimeError), eng.database.write() as tx:
        _insert_event(tx.connection, job_id)
        tx.hint(f"job:{job_id}")
        raise RuntimeError("the body failed")
    assert _event_count(eng) == before
    assert _nothing_heard_before_a_later_commit(eng, listener)


@PG_ONLY
def test_a_failed_commit_raises_inside_the_write_and_leaves_no_rows(
    eng: Engine, listener: psycopg.Connection
) -> None:
    """A deferred constraint fails at COMMIT — the round trip that also carries the hint."""
    job_id = _job(eng, listener)
    before = _event_count(eng)
    with pytest.raises(sa.exc.IntegrityError), eng.database.write() as tx:
        tx.connection.exec_driver_sql(
            "CREATE TEMP TABLE t_twice (v int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
            " ON COMMIT DROP"
        )
        tx.connection.exec_driver_sql("INSERT INTO t_twice VALUES (1), (1)")
        _insert_event(tx.connection, job_id)
        tx.insert_at_end(job_events, [_event(job_id, "RUNNING")])
        tx.hint(f"job:{job_id}")
    assert _event_count(eng) == before
    assert _nothing_heard_before_a_later_commit(eng, listener)
    with eng.database.write() as tx:  # the pooled connection is usable again
        _insert_event(tx.connection, job_id)
        tx.hint(f"job:{job_id}")
    assert _received(listener) == [f"job:{job_id}"]
    assert _event_count(eng) == before + 1


def _backend_pid(eng: Engine) -> int:
    with eng.database.read() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(eng: Engine, pid: int) -> None:
    url = eng.database.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _checked_in_long_ago(_dbapi_connection: object, record: sa.pool.ConnectionPoolEntry) -> None:
    """Runs after the dialect noted the check-in time: moves it ``PING_AFTER_IDLE_S`` back,
    so the connection is idle past the window without the test sleeping through it."""
    record.info["idle_since"] -= PING_AFTER_IDLE_S


@PG_ONLY
def test_a_pooled_connection_cut_while_idle_is_replaced_before_use(eng: Engine) -> None:
    """The server dropped the pooled connection (a restart does that to all of them): once
    idle past ``PING_AFTER_IDLE_S`` it is pinged on checkout and replaced, unseen."""
    eng.database.engine.pool.dispose()
    sa.event.listen(eng.database.engine, "checkin", _checked_in_long_ago)
    try:
        pid = _backend_pid(eng)
    finally:
        sa.event.remove(eng.database.engine, "checkin", _checked_in_long_ago)
    _terminate(eng, pid)
    job_id = eng.enqueue("NOOP", {}).id
    assert eng.require(job_id).id == job_id
    assert _backend_pid(eng) != pid


@PG_ONLY
def test_a_connection_cut_right_after_use_fails_once_then_the_pool_recovers(eng: Engine) -> None:
    """Within the window there is no ping: the first statement meets the cut connection —
    an error like any server loss mid-transaction — and the next write works."""
    eng.database.engine.pool.dispose()
    _terminate(eng, _backend_pid(eng))
    with pytest.raises(sa.exc.OperationalError):
        eng.enqueue("NOOP", {})
    assert eng.require(eng.enqueue("NOOP", {}).id)


def _listening(eng: Engine) -> int:
    with eng.database.read() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE query = %s AND datname = current_database()"
        return int(conn.exec_driver_sql(query, (f"LISTEN {CHANNEL}",)).scalar_one())


@PG_ONLY
def test_an_engine_listens_from_its_first_wait_on_and_not_before(db_url: str) -> None:
    """Only waiters read hints: an engine that enqueues and reads opens no LISTEN
    connection (it would receive every commit of every worker); the first wait opens it,
    and the hint of a change another process commits then reaches this engine's waiters
    (shown by the hint itself, not by how soon the wait returned)."""
    with open_engine(db_url) as eng, open_engine(db_url) as other:
        register(eng)
        register(other)
        job = eng.enqueue("RECORD_RUN", {})
        assert eng.get(job.id) is not None and list(eng.find({}))
        assert _listening(eng) == 0
        heard = threading.Event()  # the other engine's hint for the job, via LISTEN
        eng.hub.notify = _noting(eng.hub.notify, f"job:{job.id}", heard)  # type: ignore[method-assign]
        owner = new_owner()
        # The claim comes once the wait blocks: its first watch returned only once the
        # LISTEN connection listened (Database.listen), so the claim's hint reaches it.
        with once_waiting([f"job:{job.id}"], lambda: other.leases.claim(owner, limit=1)):
            assert eng.wait(job.id, "RUNNING", timeout_s=5).status == "RUNNING"
        assert _listening(eng) == 1
        assert heard.wait(5)


def _noting(
    notify: Callable[[Iterable[str]], None], key: str, heard: threading.Event
) -> Callable[[Iterable[str]], None]:
    """``notify`` (what the listener feeds, bound at the first wait), setting ``heard``
    when ``key`` passes."""

    def note(keys: Iterable[str]) -> None:
        keys = list(keys)
        if key in keys:
            heard.set()
        notify(keys)

    return note


def test_a_connection_handed_back_after_close_is_closed_not_kept(db_url: str) -> None:
    """A thread still in a transaction when the database closes (a job thread a forced
    stop abandoned, a timer) hands its connection back to the disposed pool later: it is
    closed then, not left open until the garbage collector finds it."""
    engine = Engine.open(db_url)
    held = engine.database.engine.connect()
    raw = held.connection.dbapi_connection
    assert raw is not None
    engine.close()
    held.close()  # (back to the pool that close() disposed)
    closed = raw.closed if hasattr(raw, "closed") else _sqlite_closed(raw)
    assert closed


def _sqlite_closed(raw: object) -> bool:
    try:
        raw.execute("SELECT 1")  # type: ignore[attr-defined]
    except Exception as exc:  # sqlite3.ProgrammingError: Cannot operate on a closed database
        return "closed" in str(exc)
    return False


def _in_transaction(conn: sa.Connection) -> bool:
    """Whether the read's statements run inside one transaction (PostgreSQL: two statements
    see the same transaction id; SQLite: the connection is in one)."""
    if conn.dialect.name == "postgresql":
        ids = [conn.exec_driver_sql("SELECT pg_current_xact_id()").scalar_one() for _ in "ab"]
        return bool(ids[0] == ids[1])
    conn.exec_driver_sql("SELECT 1").all()
    return bool(conn.connection.driver_connection.in_transaction)  # type: ignore[union-attr]


def test_a_read_is_a_transaction_on_sqlite_and_each_statement_its_own_on_postgresql(
    eng: Engine,
) -> None:
    """PostgreSQL reads at READ COMMITTED, where every statement takes its own snapshot: a
    read transaction gave nothing but a BEGIN and a ROLLBACK round trip. A read bounded by
    a script's deadline keeps its transaction, which scopes its ``statement_timeout``."""
    postgres = eng.database.name == "postgresql"
    job_id = eng.enqueue("NOOP", {}).id
    with eng.database.read() as conn:
        assert _in_transaction(conn) is not postgres
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    with eng.database.statements_until(time.monotonic() + 30), eng.database.read() as conn:
        assert _in_transaction(conn) is True
        if postgres:
            timeout = conn.exec_driver_sql("SHOW statement_timeout").scalar_one()
            assert timeout != "0"
    with eng.database.read() as conn:
        if postgres:  # the bound did not outlive its transaction on the pooled connection
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "0"
    assert eng.require(job_id).id == job_id
