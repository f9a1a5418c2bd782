"""PostgreSQL faults under running workers: the server restarts, the LISTEN connection is
terminated, the database refuses new connections. Workers ride them out; nothing is lost,
nothing finishes twice, and the jobs finish within a bounded time after the fault ends."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from bench.pgcluster import as_postgres, pg_bindir
from sysjobs.worker.pool import WorkerPool
from tests.chaos.audit import TALLY, audit, fault, reasons, wait_all_ended
from tests.chaos.conftest import chaos_engine, wait_for, worker_processes

pytestmark = pytest.mark.postgres
PG = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
#: Jobs in the restart scenario (the heavy variant runs 10,000).
RESTART_JOBS = 400


def admin(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def restart_server(url: str) -> None:
    """``pg_ctl restart -m fast``: every connection is cut, the server comes back."""
    db = admin(url)
    with db.connect() as conn:
        data_dir = conn.execute(sa.text("SHOW data_directory")).scalar_one()
    db.dispose()
    bindir = pg_bindir()
    assert bindir is not None
    subprocess.run(
        as_postgres(str(bindir / "pg_ctl"), "-D", data_dir, "-m", "fast", "-w", "restart",
                     "-l", os.path.join(os.path.dirname(data_dir), "server.log")),
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    fault("PostgreSQL restart")


def finished(url: str) -> int:
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM jobs WHERE status = 'FINISHED'")).scalar_one())  # fmt: skip
    finally:
        db.dispose()


def run_restart_scenario(url: str, jobs: int) -> None:
    with chaos_engine(url) as engine, worker_processes(url, processes=4, concurrency=2):
        items = [{"n": n, "lines": 1, "work_s": 0.01} for n in range(jobs)]
        ids = [j.id for j in engine.enqueue_many("CHAOS_UNIT", items)]
        wait_for(lambda: finished(url) >= jobs // 4, 120, "a quarter of the jobs")
        restart_server(url)
        TALLY.recovery_s.append(wait_all_ended(engine, ids, 180))
        audit(url, ids, lines_per_run=1).assert_clean()


def test_postgres_restart_while_four_workers_run_jobs(private_pg_url: str) -> None:
    run_restart_scenario(private_pg_url, RESTART_JOBS)


@pytest.mark.chaos_heavy
def test_heavy_postgres_restart_while_four_workers_run_10000_jobs(private_pg_url: str) -> None:
    run_restart_scenario(private_pg_url, 10_000)


def listen_pids(url: str) -> list[int]:
    db = admin(url)
    try:
        with db.connect() as conn:
            return [int(p) for p in conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
                "AND datname = :d"), {"d": sa.make_url(url).database}).scalars()]  # fmt: skip
    finally:
        db.dispose()


@PG
def test_terminating_the_listen_connection_is_survived(db_url: str) -> None:
    with chaos_engine(db_url) as engine, worker_processes(db_url, processes=1, concurrency=2):
        first = engine.enqueue("CHAOS_UNIT", {"n": 0})
        engine.wait(first.id, ["FINISHED"], 60)
        before = listen_pids(db_url)
        assert before, "no LISTEN connection found"
        db = admin(db_url)
        with db.connect() as conn:
            for pid in before:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                fault("pg_terminate_backend LISTEN")
        db.dispose()
        wait_for(lambda: set(listen_pids(db_url)) - set(before), 30, "the listeners to reconnect")
        started = time.monotonic()
        ids = [j.id for j in engine.enqueue_many("CHAOS_UNIT", [{"n": n} for n in range(1, 21)])]
        TALLY.recovery_s.append(wait_all_ended(engine, ids, 60))
        assert time.monotonic() - started < 30
        audit(db_url, [first.id, *ids], lines_per_run=3).assert_clean()


@contextmanager
def connections_refused(url: str) -> Iterator[None]:
    """The database accepts no new connection, and the open ones are cut."""
    name = sa.make_url(url).database
    db = admin(url)
    try:
        with db.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" CONNECTION LIMIT 0'))
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})  # fmt: skip
        fault("connections refused")
        yield
    finally:
        with db.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" CONNECTION LIMIT -1'))
        db.dispose()


@PG
def test_a_database_refusing_connections_is_ridden_out(db_url: str) -> None:
    with chaos_engine(db_url) as engine, worker_processes(db_url, processes=2, concurrency=2):
        ids = [j.id for j in engine.enqueue_many(
            "CHAOS_UNIT", [{"n": n, "lines": 2, "work_s": 0.3} for n in range(30)])]  # fmt: skip
        wait_for(lambda: finished(db_url) >= 4, 60, "some jobs to finish")
        with connections_refused(db_url):
            time.sleep(3.0)  # past the 1 s lease: nobody can renew, claim or finish
        TALLY.recovery_s.append(wait_all_ended(engine, ids, 120))
        audit(db_url, ids, lines_per_run=2).assert_clean()


@PG
def test_an_exhausted_connection_pool_delays_but_loses_nothing(db_url: str) -> None:
    """Every connection of the worker pool's own engine is taken (pool size + overflow):
    claims, heartbeats and finishes wait for one; once they are freed, every job runs once."""
    with chaos_engine(db_url, lease_s=5.0) as engine:
        ids = [j.id for j in engine.enqueue_many(
            "CHAOS_UNIT", [{"n": n, "lines": 2, "work_s": 0.05} for n in range(20)])]  # fmt: skip
        pool = engine.database.engine.pool
        held = [engine.database.engine.connect() for _ in range(pool.size() + 20)]  # all of them
        fault("connection pool exhausted")
        try:
            pool._timeout = 0.5  # type: ignore[attr-defined]
            with pytest.raises(sa.exc.TimeoutError):  # the engine's pool is really exhausted
                engine.database.engine.connect()
            pool._timeout = 30  # type: ignore[attr-defined]
            workers = WorkerPool(engine, concurrency=2, lease_s=5.0).start()
            time.sleep(2.0)  # the workers wait for a connection meanwhile
            assert finished(db_url) == 0
        finally:
            for conn in held:
                conn.close()
        try:
            TALLY.recovery_s.append(wait_all_ended(engine, ids, 60))
        finally:
            workers.stop(grace_s=5.0)
        audit(db_url, ids, lines_per_run=2).assert_clean()


def backends_waiting_on_a_lock(url: str) -> list[int]:
    db = admin(url)
    try:
        with db.connect() as conn:
            return [int(p) for p in conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock'"),
                {"d": sa.make_url(url).database}).scalars()]  # fmt: skip
    finally:
        db.dispose()


@PG
def test_a_finish_cut_off_by_the_database_is_retried_not_orphaned(db_url: str) -> None:
    """The finish's connection dies mid-statement while heartbeats still get through: the
    job must still end (once), not stay RUNNING under a lease its worker keeps renewing."""
    with chaos_engine(db_url) as engine, worker_processes(db_url, 1, 2, lease_s=5.0):
        # A long job in the same worker keeps its heartbeat going all along.
        keeper = engine.enqueue("CHAOS_UNIT", {"n": 4, "lines": 1, "steps": 100, "work_s": 10.0})
        engine.wait(keeper.id, ["RUNNING"], 60)
        job = engine.enqueue("CHAOS_ONCE", {"n": 3, "lines": 1, "linger_s": 1.0})
        wait_for(lambda: "unit 3 finishing" in [e.message for e in engine.logs(job.id, {})],
                 60, "the job to reach its finish")  # fmt: skip
        locker = sa.create_engine(db_url)
        with locker.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE job_events IN EXCLUSIVE MODE")  # finish blocks
            wait_for(lambda: backends_waiting_on_a_lock(db_url), 30, "the finish to block")
            db = admin(db_url)
            with db.connect() as kill:
                for pid in backends_waiting_on_a_lock(db_url):
                    kill.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    fault("finish connection terminated")
            db.dispose()
            conn.rollback()
        locker.dispose()
        started = time.monotonic()
        ended = engine.wait(job.id, ["FINISHED"], 20)
        TALLY.recovery_s.append(time.monotonic() - started)
        assert [e.to_status for e in engine.events(job.id)].count("FINISHED") == 1
        assert not ended.has_errors, reasons(engine, ended)
        assert (ended.results or {}).get("n") == 3  # its work counts
        engine.cancel(keeper.id)  # done with it: it only kept the heartbeat busy
        engine.wait(keeper.id, ["CANCELED"], 60)
        audit(db_url, [job.id, keeper.id]).assert_clean()
