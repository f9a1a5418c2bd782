"""Engine benchmark: enqueue and run throughput, enqueue→start latency, wait wake-up latency,
and ``find``/``logs`` with filters over many rows — on SQLite and PostgreSQL, as one table.

    .venv/bin/python bench/engine_bench.py [--jobs 2000] [--rows 100000] [--pg URL]

Without ``--pg`` (or ``SYSJOBS_BENCH_PG_URL``) a throwaway PostgreSQL cluster is started from
the machine's binaries when they exist. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pgcluster import pg_bindir, pg_cluster
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType
from sysjobs.worker import WorkerPool

STARTED: dict[str, float] = {}


class Empty(BaseModel):
    pass


def _noop(ctx: JobContext, data: Empty) -> None:
    STARTED[ctx.job.id] = time.perf_counter()


def _open(url: str) -> Engine:
    engine = Engine.open(url, settings=EngineSettings(lease_s=30.0))
    engine.register(JobType("BENCH_NOOP", Empty, _noop))
    return engine


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def bench_throughput(url: str, jobs: int) -> dict[str, str]:
    """Enqueue one by one, then run them all with an in-process pool of 8 slots."""
    with _open(url) as engine:
        started = time.perf_counter()
        ids = [engine.enqueue("BENCH_NOOP", {}).id for _ in range(jobs)]
        enqueue_s = time.perf_counter() - started
        started = time.perf_counter()
        with WorkerPool(engine, concurrency=8):
            engine.wait(ids[-1], ["FINISHED"], 600)
            while engine.find({"status": "PENDING,RUNNING", "_size": 1}).count():
                time.sleep(0.01)
        run_s = time.perf_counter() - started
    return {"enqueue jobs/s": f"{jobs / enqueue_s:,.0f}", "run jobs/s": f"{jobs / run_s:,.0f}"}


def bench_js(url: str, jobs: int) -> dict[str, str]:
    """A no-op JavaScript job (RUN_SCRIPT) through the host's sandboxes, 4 slots."""
    from sysjobs.host import Host  # the full stack: runtime, bindings, app

    with Host(url, pool_size=4) as host:
        started = time.perf_counter()
        ids = [host.start_script_job("var x = 1;").id for _ in range(jobs)]
        enqueue_s = time.perf_counter() - started
        started = time.perf_counter()
        with host.workers(concurrency=4, in_process=True):  # the sandbox path, no spawn time
            host.engine.wait(ids[-1], ["FINISHED"], 600)
            while host.engine.find({"status": "PENDING,RUNNING", "_size": 1}).count():
                time.sleep(0.01)
        run_s = time.perf_counter() - started
    return {"JS no-op enqueue jobs/s": f"{jobs / enqueue_s:,.0f}",
            "JS no-op run jobs/s": f"{jobs / run_s:,.0f}"}  # fmt: skip


def bench_latency(url: str, samples: int) -> dict[str, str]:
    """Enqueue into an idle pool; time until the handler starts; and wait() wake-up."""
    with _open(url) as engine, _open(url) as other:
        delays = []
        with WorkerPool(engine, concurrency=2):
            for _ in range(samples):
                t0 = time.perf_counter()
                job = engine.enqueue("BENCH_NOOP", {})
                engine.wait(job.id, ["FINISHED"], 30)
                delays.append(STARTED[job.id] - t0)
        wakes = [_wake_once(other, engine) for _ in range(samples)]  # no pool: nothing runs
    return {
        "enqueue→start p50": f"{_pct(delays, 0.5) * 1000:.1f} ms",
        "enqueue→start p95": f"{_pct(delays, 0.95) * 1000:.1f} ms",
        "wait wake-up p50": f"{_pct(wakes, 0.5) * 1000:.1f} ms",
    }


def _wake_once(changer: Engine, waiter: Engine) -> float:
    """Waiter and changer are different engines (pools), as with two processes."""
    job = changer.enqueue("BENCH_NOOP", {})
    committed: list[float] = []
    ready = threading.Event()

    def change() -> None:
        ready.wait()
        time.sleep(0.01)
        changer.cancel(job.id)
        committed.append(time.perf_counter())

    thread = threading.Thread(target=change)
    thread.start()
    ready.set()
    waiter.wait(job.id, ["CANCELED"], 30)
    woke = time.perf_counter()
    thread.join()
    return max(0.0, woke - committed[0])


def bench_queries(url: str, rows: int) -> dict[str, str]:
    """``find``/``logs`` with filters over ``rows`` jobs and ``rows`` log lines."""
    with _open(url) as engine:
        for start in range(0, rows, 5000):
            engine.enqueue_many("BENCH_NOOP", [{} for _ in range(min(5000, rows - start))])
        job = engine.enqueue("BENCH_NOOP", {})
        _bulk_logs(engine, job.id, rows)
        with engine.database.write() as tx:  # fresh statistics, as autovacuum/analyze keeps them
            tx.connection.exec_driver_sql("ANALYZE")
        timings = {
            "find status+type _size 50": lambda: list(
                engine.find({"status": "PENDING", "type": "BENCH_NOOP", "_size": 50})
            ),
            "find createFrom range _size 50": lambda: list(
                engine.find({"createFrom": 0, "createTo": 2**41, "_size": 50})
            ),
            "logs level+message _size 50": lambda: list(
                engine.logs(job.id, {"level": "ERROR", "message": "row 9", "_size": 50})
            ),
            "logs period 1d _size 50": lambda: list(
                engine.logs(job.id, {"period": "1d", "_size": 50})
            ),
        }
        return {name: f"{_median_ms(fn):.1f} ms" for name, fn in timings.items()}


def _bulk_logs(engine: Engine, job_id: str, rows: int) -> None:
    """Insert log lines in bulk (the public verb is one line per call)."""
    from sysjobs.store.schema import job_logs  # the bench may reach below the service

    now = int(time.time() * 1000)
    for start in range(0, rows, 10_000):
        batch = [
            {"job_id": job_id, "ts_ms": now - i, "level": "ERROR" if i % 10 == 0 else "INFO",
             "message": f"row {i}: processed", "additional_info": None}
            for i in range(start, min(rows, start + 10_000))
        ]  # fmt: skip
        with engine.database.write() as tx:
            tx.connection.execute(job_logs.insert(), batch)


def _median_ms(fn: Callable[[], object], repeat: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A temporary cluster from the machine's binaries (``pgcluster.py``), or None when
    there are none."""
    if pg_bindir() is None:
        yield None
        return
    with pg_cluster("sysjobs-bench-pg-", ("max_connections=200",)) as cluster:
        yield cluster.url()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("SYSJOBS_BENCH_PG_URL"))
    args = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp, throwaway_postgres() as started_pg:
        backends = {"SQLite": f"sqlite:///{tmp}/bench.db"}
        if args.pg or started_pg:
            backends["PostgreSQL"] = args.pg or started_pg  # type: ignore[assignment]
        for name, url in backends.items():
            results[name] = {
                **bench_throughput(url, args.jobs),
                **bench_js(url, args.jobs),
                **bench_latency(url, args.samples),
                **bench_queries(url, args.rows),
            }
    table = Table(title=f"sysjobs engine ({args.jobs} jobs, {args.rows:,} rows for queries)")
    table.add_column("measure")
    for name in results:
        table.add_column(name, justify="right")
    for measure in next(iter(results.values())):
        table.add_row(measure, *(results[name][measure] for name in results))
    Console().print(table)


if __name__ == "__main__":
    main()
