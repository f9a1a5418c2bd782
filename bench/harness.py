"""The driver every system shares: start workers, warm up, enqueue, wait, measure.

Imported by each system's script (``sys_*.py``), which runs in its own interpreter — sysjobs'
venv for sysjobs, ``bench/.venv-peers`` for the peers — so this module uses the standard
library only. A system plugs in a :class:`System`: how to prepare its storage, start one
worker process, enqueue a batch, and count finished jobs. The figures come back as one JSON
line on stdout.

* throughput: idle workers (warmed up with a few jobs), then N jobs enqueued in batches and
  the clock stops when all N are done: jobs/s = N / (enqueue + drain).
* backlog: ``--backlog`` jobs queued before the workers start; the rate over ``--n`` of them
  (does a job cost more when the queue is long?).
* latency: one job every ``interval`` s on idle workers; each job's start is recorded by the
  job itself (peers: ``time.time()`` appended to a file) or by the system (sysjobs: the row's
  ``started_ms``); enqueue→start = start - the client's clock just before enqueue.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

WARMUP_JOBS = 20
T = TypeVar("T")
BATCH = 1000


class Kept(Generic[T]):
    """One client (a database connection) made on first use and kept for every poll.

    ``done()`` is polled while a system drains (see :func:`wait_done`); opening a
    connection per poll made PostgreSQL start a backend process up to 100 times a second
    on the cores the workers need (the peers' polls did that until the third round;
    sysjobs' used its pool).
    """

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._client: T | None = None

    def get(self) -> T:
        if self._client is None:
            self._client = self._make()
        return self._client


@dataclass
class System:
    """What differs between the systems under test."""

    name: str
    #: Prepare empty storage (schema, flush).
    prepare: Callable[[], None]
    #: Argv of one worker process (run with this interpreter).
    worker_argv: Callable[[int], list[str]]
    #: Enqueue jobs numbered ``ids`` (each job gets its number as argument).
    enqueue: Callable[[Sequence[int]], None]
    #: How many jobs have finished so far.
    done: Callable[[], int]
    #: Enqueue→start figures for the latency jobs, {number: start (s since epoch)}; None →
    #: read the files written by the jobs themselves (env ``BENCH_LAT_DIR``).
    starts: Callable[[], dict[int, float]] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    cleanup: Callable[[], None] = lambda: None
    #: After a backlog was queued: what the database does on its own soon after a bulk
    #: insert (PostgreSQL: autovacuum's ANALYZE), done now so the steady state is measured.
    settle: Callable[[], None] = lambda: None
    #: The settings this run used (concurrency, batch size…), echoed in the JSON line.
    settings: dict[str, object] = field(default_factory=dict)


def _start_workers(
    system: System, count: int, env: dict[str, str]
) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(system.worker_argv(i), env=env, start_new_session=True)
        for i in range(count)
    ]


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


#: The longest pause between two ``done()`` polls (seconds).
MAX_PACE = 0.25


def wait_done(system: System, target: int, timeout_s: float, pace: float = 0.01) -> float:
    """Block until ``done() >= target``; returns the time (perf_counter) it was seen.

    ``done()`` is a ``count(*)`` over thousands of rows (2-60 ms of server time on these
    machines), and polled every 10 ms it took a tenth of the two cores the systems under
    test share. So the pause follows the drain: half the time the jobs left should take
    at the rate seen since the last poll, between ``pace`` and :data:`MAX_PACE` — the
    same rule for every system, and the end is still seen within ``pace``.
    """
    deadline = time.monotonic() + timeout_s
    seen, seen_at = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = system.done()
        if count >= target:
            return time.perf_counter()
        now = time.monotonic()
        time.sleep(_pause(target - count, count - seen, now - seen_at, pace))
        seen, seen_at = count, now
    raise TimeoutError(f"{system.name}: {system.done()} of {target} jobs done after {timeout_s}s")


def _pause(left: int, progressed: int, elapsed: float, pace: float) -> float:
    """Half the time ``left`` jobs take at the rate of the last interval, within bounds."""
    if progressed <= 0 or elapsed <= 0:
        return pace
    return min(MAX_PACE, max(pace, 0.5 * left * elapsed / progressed))


def _file_starts(lat_dir: Path) -> dict[int, float]:
    starts: dict[int, float] = {}
    for path in lat_dir.glob("*.txt"):
        for line in path.read_text().splitlines():
            number, _, ts = line.partition(" ")
            starts[int(number)] = float(ts)
    return starts


def record_start(number: int) -> None:
    """Called by a peer's job: append ``number start`` to this process's file (latency runs)."""
    lat_dir = os.environ.get("BENCH_LAT_DIR")
    if lat_dir:
        with open(Path(lat_dir) / f"{os.getpid()}.txt", "a") as f:
            f.write(f"{number} {time.time()}\n")


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def run(system: System, args: argparse.Namespace) -> dict[str, object]:
    """One measurement of ``system`` as the command line asks."""
    system.prepare()
    lat_dir = Path(tempfile.mkdtemp(prefix="bench-lat-"))
    env = {**os.environ, **system.extra_env}
    if args.mode == "latency":
        env["BENCH_LAT_DIR"] = str(lat_dir)
    if args.mode == "backlog":
        return _backlog(system, args, env)
    procs = _start_workers(system, args.workers, env)
    try:
        system.enqueue(range(-WARMUP_JOBS, 0))
        wait_done(system, WARMUP_JOBS, 180)
        if args.mode == "throughput":
            return _throughput(system, args.n)
        return _latency(system, args.n, args.interval, lat_dir)
    finally:
        _stop_workers(procs)
        system.cleanup()


def _throughput(system: System, n: int) -> dict[str, object]:
    started = time.perf_counter()
    for first in range(0, n, BATCH):
        system.enqueue(range(first, min(n, first + BATCH)))
    enqueued = time.perf_counter()
    ended = wait_done(system, WARMUP_JOBS + n, timeout_s=max(600, n / 10))
    return {
        "jobs": n,
        "seconds": ended - started,
        "jobs_per_s": n / (ended - started),
        "enqueue_s": enqueued - started,
    }


def _backlog(system: System, args: argparse.Namespace, env: dict[str, str]) -> dict[str, object]:
    """``--backlog`` jobs queued before the workers start; the rate over ``--n`` of them."""
    for first in range(0, args.backlog, BATCH):
        system.enqueue(range(first, min(args.backlog, first + BATCH)))
    system.settle()
    procs = _start_workers(system, args.workers, env)
    try:
        started = wait_done(system, WARMUP_JOBS, 180, pace=0.005)
        ended = wait_done(system, WARMUP_JOBS + args.n, timeout_s=max(600, args.n / 10))
    finally:
        _stop_workers(procs)
        system.cleanup()
    return {
        "jobs": args.n,
        "backlog": args.backlog,
        "workers": args.workers,
        "seconds": ended - started,
        "jobs_per_s": args.n / (ended - started),
    }


def _latency(system: System, n: int, interval: float, lat_dir: Path) -> dict[str, object]:
    sent: dict[int, float] = {}
    next_at = time.perf_counter()
    for number in range(n):
        next_at += interval
        sent[number] = time.time()
        system.enqueue([number])
        time.sleep(max(0.0, next_at - time.perf_counter()))
    wait_done(system, WARMUP_JOBS + n, timeout_s=120)
    starts = system.starts() if system.starts is not None else _file_starts(lat_dir)
    delays = [(starts[i] - sent[i]) * 1000 for i in sent if i in starts]
    return {
        "jobs": len(delays),
        "p50_ms": statistics.median(delays),
        "p99_ms": percentile(delays, 99),
        "max_ms": max(delays),
    }


def main(make: Callable[[argparse.Namespace], System]) -> None:
    """Command line of a system script: ``run`` (measure) or ``worker`` (one worker process)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "worker"])
    modes = ["throughput", "latency", "backlog"]
    parser.add_argument("--mode", choices=modes, default="throughput")
    parser.add_argument("--target", required=True, help="URL / conninfo / port of the store")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--backlog", type=int, default=10_000)
    args = parser.parse_args()
    system = make(args)
    result = run(system, args)
    summary = {"system": system.name, "mode": args.mode, "workers": args.workers,
               "settings": system.settings, **result}
    print(json.dumps(summary), flush=True)
    sys.exit(0)
