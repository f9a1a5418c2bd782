"""Procrastinate (pinned in ``bench/.venv-peers``): a no-op task on the shared PostgreSQL.

Workers run ``App.run_worker`` with the library's defaults (concurrency 1, LISTEN/NOTIFY on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import harness
import psycopg
from procrastinate import App, PsycopgConnector

CONNINFO = sys.argv[sys.argv.index("--target") + 1] if "--target" in sys.argv else ""
app = App(connector=PsycopgConnector(conninfo=CONNINFO))


@app.task(name="noop")
def noop(i: int = 0) -> None:
    """Does nothing (records its start in latency runs)."""
    if i >= 0:
        harness.record_start(i)


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
    )


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        app.run_worker()
    else:
        harness.main(make)
