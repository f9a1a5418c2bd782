"""Many apps, one fleet: app B's enqueue→start latency while app A has a long backlog —
and, within one app, a fresh job's latency while one root job has a long backlog of children.

    .venv/bin/python bench/apps_bench.py [--backlog 50000] [--samples 50] [--pg URL]

App A enqueues ``--backlog`` no-op jobs; then one in-process pool of 8 slots serving both
apps starts, and app B enqueues one no-op job every 20 ms: each B job's latency is the
time from its enqueue to its handler's start. Oldest-first claiming across apps would keep
B waiting behind all of A's backlog; the fair share (``sysjobs.store.leases.fair_rounds``)
gives B a turn in every claim. Also measured: the same B jobs with no backlog, and how much
of A's backlog the pool ran meanwhile. Without ``--pg`` (or ``SYSJOBS_BENCH_PG_URL``) a
throwaway PostgreSQL cluster is started when the machine has the binaries. Numbers are
printed (and returned to ``bench/run.py``), never asserted.

The tree measure (fair share per root job, ``sysjobs/store/turns.py``): one app, a running
root job with ``--backlog`` pending children, then the same pool of 8 slots and a fresh job
of no tree every 20 ms; each fresh job's latency is the time from its enqueue to its
handler's start. Claiming oldest first would keep each one behind every child enqueued
before it; the turns give it the head of the queue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from typing import Any

from pgcluster import pg_bindir, pg_cluster
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType, control
from sysjobs.worker import WorkerPool
from sysjobs.worker.served import ServedApp

SLOTS = 8
GAP_S = 0.02


class Empty(BaseModel):
    pass


class Starts:
    """When each job's handler started (perf_counter), by job id."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def handler(self, ctx: JobContext, _data: Empty) -> None:
        with self.changed:
            self.at[ctx.job.id] = time.perf_counter()
            self.changed.notify_all()

    def wait_for(self, job_ids: list[str], timeout_s: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: all(j in self.at for j in job_ids), timeout_s)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(url: str, backlog: int, samples: int) -> dict[str, Any]:
    """B's latency (ms) with A's ``backlog`` pending, and A's jobs run meanwhile."""
    starts = Starts()
    engine = Engine.open(url, settings=EngineSettings(app="bench-a"))
    try:
        other = engine.for_app("bench-b")
        for app_engine in (engine, other):
            app_engine.register(JobType("BENCH_NOOP", Empty, starts.handler))
        for first in range(0, backlog, 5_000):
            engine.enqueue_many("BENCH_NOOP", [{}] * min(5_000, backlog - first))
        served = {"bench-a": ServedApp(engine), "bench-b": ServedApp(other)}
        latencies: list[float] = []
        with WorkerPool(engine, concurrency=SLOTS, apps=served):
            for _ in range(samples):
                enqueued = time.perf_counter()
                job = other.enqueue("BENCH_NOOP", {})
                starts.wait_for([job.id], 60)
                latencies.append((starts.at.get(job.id, float("nan")) - enqueued) * 1000)
                time.sleep(GAP_S)
            ran_a = len(starts.at) - samples
        return {
            "backlog": backlog, "samples": samples,
            "p50_ms": statistics.median(latencies), "p99_ms": _pct(latencies, 0.99),
            "max_ms": max(latencies), "a_jobs_run_meanwhile": ran_a,
        }  # fmt: skip
    finally:
        engine.close()


def _children(engine: Engine, root: str, count: int) -> None:
    """``count`` pending children of ``root``, as ``enqueue_many(parent_id=root)`` writes
    them, 5,000 an insert (without reading the parent once per child)."""
    first = control.new_job_row(engine.parts, engine.registry.require("BENCH_NOOP"), {},
                                label=None, run_by=None, low_priority=False, queue=None,
                                lineage=(root, root))  # fmt: skip
    for done in range(0, count, 5_000):
        rows = [{**first, "id": engine.parts.ids.new(first["created_ms"])}
                for _ in range(min(5_000, count - done))]  # fmt: skip
        engine.backend.insert_jobs(rows, reason="enqueued")


def measure_tree(url: str, backlog: int, samples: int) -> dict[str, Any]:
    """A fresh job's latency (ms) while a root job has ``backlog`` pending children, and
    how many children the pool ran meanwhile."""
    starts = Starts()
    engine = Engine.open(url, settings=EngineSettings(app="bench-tree", lease_s=600))
    try:
        engine.register(JobType("BENCH_NOOP", Empty, starts.handler))
        root = engine.enqueue("BENCH_NOOP", {})
        (running,) = engine.leases.claim("w-bench-root", limit=1)  # the root runs meanwhile
        _children(engine, running.job.id, backlog)
        latencies: list[float] = []
        with WorkerPool(engine, concurrency=SLOTS):
            for _ in range(samples):
                enqueued = time.perf_counter()
                job = engine.enqueue("BENCH_NOOP", {})
                starts.wait_for([job.id], 60)
                latencies.append((starts.at.get(job.id, float("nan")) - enqueued) * 1000)
                time.sleep(GAP_S)
            ran = len(starts.at) - samples
        assert root.id == running.job.id
        return {
            "backlog": backlog, "samples": samples,
            "p50_ms": statistics.median(latencies), "p99_ms": _pct(latencies, 0.99),
            "max_ms": max(latencies), "a_jobs_run_meanwhile": ran,
        }  # fmt: skip
    finally:
        engine.close()


def run_trees(pg_url: str | None, backlog: int, samples: int) -> list[dict[str, Any]]:
    """:func:`measure_tree` on both databases (PostgreSQL when ``pg_url``)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        out.append({"database": "sqlite", **measure_tree(f"sqlite:///{tmp}/tree.db", backlog,
                                                        samples)})  # fmt: skip
        if pg_url is not None:
            out.append({"database": "postgresql",
                        **measure_tree(_fresh(pg_url, "tree"), backlog, samples)})  # fmt: skip
    return out


def tree_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title=f"a fresh job's enqueue→start while one root has a backlog of children "
                    f"({SLOTS} slots, one pool)")  # fmt: skip
    for col in ("database", "children pending", "fresh p50 ms", "fresh p99 ms", "fresh max ms",
                "children run"):  # fmt: skip
        t.add_column(col)
    for r in rows:
        t.add_row(r["database"], f"{r['backlog']:,}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                  f"{r['max_ms']:.1f}", f"{r['a_jobs_run_meanwhile']:,}")  # fmt: skip
    return t


def run(pg_url: str | None, backlog: int, samples: int) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("sqlite", lambda i: f"sqlite:///{tmp}/apps{i}.db"),
                           ("postgresql", lambda i: pg_url)):  # fmt: skip
            if name == "postgresql" and pg_url is None:
                continue
            for i, size in enumerate((0, backlog)):
                url = make(i)
                if name == "postgresql":
                    url = _fresh(pg_url or "", f"apps{i}")
                out.append({"database": name, **measure(url, size, samples)})
    return out


def _fresh(url: str, name: str) -> str:
    """A new empty database ``name`` on the server of ``url``."""
    import sqlalchemy as sa

    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


def table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title=f"app B enqueue→start while app A has a backlog ({SLOTS} slots, one pool)")
    for col in ("database", "A backlog", "B p50 ms", "B p99 ms", "B max ms", "A jobs run"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["database"], f"{r['backlog']:,}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                  f"{r['max_ms']:.1f}", f"{r['a_jobs_run_meanwhile']:,}")  # fmt: skip
    return t


def main() -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--pg", default=os.environ.get("SYSJOBS_BENCH_PG_URL"))
    args = parser.parse_args()
    if args.pg is None and pg_bindir() is not None:
        with pg_cluster() as cluster:
            rows = run(cluster.url(), args.backlog, args.samples)
            trees = run_trees(cluster.url(), args.backlog, args.samples)
    else:
        rows = run(args.pg, args.backlog, args.samples)
        trees = run_trees(args.pg, args.backlog, args.samples)
    Console(width=140).print(table(rows))
    Console(width=140).print(tree_table(trees))
    return rows + [{"measure": "tree", **r} for r in trees]


if __name__ == "__main__":
    main()
