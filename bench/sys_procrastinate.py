"""Procrastinate (pinned in ``bench/.venv-peers``): a no-op task on the shared PostgreSQL.

Workers run ``App.run_worker`` with LISTEN/NOTIFY on (its default: a worker fetches again as
soon as a job is deferred, and keeps fetching until the queue is empty, so
``fetch_job_polling_interval`` is only the fallback) and ``concurrency`` from
``BENCH_PROCRASTINATE_CONCURRENCY`` (the library's default is 1). The task is ``async def``:
Procrastinate runs a sync task in a thread (``sync_to_async``) and its docs advise
concurrency only for asynchronous tasks, so an async no-op is its best case. The worker's
connection pool holds up to ``concurrency`` connections (psycopg_pool's default is 4), so
no job waits for a connection.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import harness
import psycopg
from procrastinate import App, PsycopgConnector

CONNINFO = sys.argv[sys.argv.index("--target") + 1] if "--target" in sys.argv else ""
CONCURRENCY = int(os.environ.get("BENCH_PROCRASTINATE_CONCURRENCY", "1"))
POOL = max(4, CONCURRENCY)
app = App(connector=PsycopgConnector(conninfo=CONNINFO, min_size=4, max_size=POOL))


ASYNC = os.environ.get("BENCH_PROCRASTINATE_TASK", "async") == "async"


def _noop(i: int = 0) -> None:
    """Does nothing (records its start in latency runs)."""
    if i >= 0:
        harness.record_start(i)


async def _async_noop(i: int = 0) -> None:
    """Does nothing (records its start in latency runs)."""
    _noop(i)


#: ``BENCH_PROCRASTINATE_TASK=sync``: a plain ``def`` task (run in a thread) instead.
noop = app.task(name="noop")(_async_noop if ASYNC else _noop)


def _prepare() -> None:
    with psycopg.connect(CONNINFO, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    with app.open():
        app.schema_manager.apply_schema()


def _enqueue(ids: Sequence[int]) -> None:
    with app.open():
        noop.batch_defer(*({"i": i} for i in ids))


_poll = harness.Kept(lambda: psycopg.connect(CONNINFO, autocommit=True))


def _done() -> int:
    row = (
        _poll.get()
        .execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
        .fetchone()
    )
    return int(row[0]) if row else 0


def make(args: argparse.Namespace) -> harness.System:
    return harness.System(
        name="procrastinate",
        prepare=_prepare,
        worker_argv=lambda _i: [sys.executable, __file__, "worker", "--target", CONNINFO],
        enqueue=_enqueue,
        done=_done,
        settings={"concurrency": CONCURRENCY, "pool_max_size": POOL, "listen_notify": True,
                  "task": "async" if ASYNC else "sync"},
    )


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        app.run_worker(concurrency=CONCURRENCY, listen_notify=True)
    else:
        harness.main(make)
