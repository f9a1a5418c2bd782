"""pgqueuer (pinned in ``bench/.venv-peers``): a no-op entrypoint on the shared PostgreSQL.

Workers run ``PgQueuer.run`` through its psycopg driver, LISTEN/NOTIFY on, with
``batch_size`` from ``BENCH_PGQUEUER_BATCH`` (the library's default is 10): a worker picks up
to that many jobs per dequeue and buffers their status rows, flushed ``batch_size`` at a
time. The entrypoint and the worker have no concurrency limit (the library's defaults:
``concurrency_limit=0``, ``max_concurrent_tasks=None``), so every picked job runs at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

import harness
import psycopg
from pgqueuer import PgQueuer, PsycopgDriver, Queries
from pgqueuer.models import Job

CONNINFO = sys.argv[sys.argv.index("--target") + 1] if "--target" in sys.argv else ""
BATCH = int(os.environ.get("BENCH_PGQUEUER_BATCH", "10"))


async def _with_queries(action: str, ids: Sequence[int] = ()) -> None:
    conn = await psycopg.AsyncConnection.connect(CONNINFO, autocommit=True)
    try:
        queries = Queries(PsycopgDriver(conn))
        if action == "install":
            await queries.install()
        else:
            ids = list(ids)
            payloads: list[bytes | None] = [str(i).encode() for i in ids]
            await queries.enqueue(["noop"] * len(ids), payloads, [0] * len(ids))
    finally:
        await conn.close()


def _prepare() -> None:
    with psycopg.connect(CONNINFO, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    asyncio.run(_with_queries("install"))


def _enqueue(ids: Sequence[int]) -> None:
    asyncio.run(_with_queries("enqueue", ids))


_poll = harness.Kept(lambda: psycopg.connect(CONNINFO, autocommit=True))


def _done() -> int:
    row = (
        _poll.get()
        .execute("SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'")
        .fetchone()
    )
    return int(row[0]) if row else 0


async def _worker() -> None:
    conn = await psycopg.AsyncConnection.connect(CONNINFO, autocommit=True)
    pgq = PgQueuer(PsycopgDriver(conn))

    @pgq.entrypoint("noop")
    async def noop(job: Job) -> None:
        number = int(job.payload or b"0")
        if number >= 0:
            harness.record_start(number)

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, pgq.shutdown.set)
    await pgq.run(batch_size=BATCH)


def make(args: argparse.Namespace) -> harness.System:
    return harness.System(
        name="pgqueuer",
        prepare=_prepare,
        worker_argv=lambda _i: [sys.executable, __file__, "worker", "--target", CONNINFO],
        enqueue=_enqueue,
        done=_done,
        settings={"batch_size": BATCH, "listen_notify": True},
    )


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        asyncio.run(_worker())
    else:
        harness.main(make)
