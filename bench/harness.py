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
            clock = CpuClock(tuple(p.pid for p in procs), _server_pid())
            return _throughput(system, args.n, clock)
        return _latency(system, args.n, args.interval, lat_dir)
    finally:
        _stop_workers(procs)
        system.cleanup()


def _ticks(pid: int, reaped: bool = False) -> int:
    """User + system clock ticks of ``pid`` (all its threads); with ``reaped`` also those of
    the children it waited for. 0 when the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    # fields[0] is the state (field 3): utime, stime, cutime, cstime are fields 14-17
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if reaped else 0)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (from ``/proc/*/stat``'s parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds (user + system) of the processes a throughput run is made of.

    The rate of a run on a shared machine moves with the load; the CPU its processes burn
    for the same jobs moves much less, so each run reports both over the same window (after
    the warm-up, from the first enqueue to the last job seen done): the worker processes
    (and anything they started), the driver (this process: the enqueue and the polls), and
    with ``BENCH_SERVER_PID`` the database server (its postmaster, every backend and
    background process below it, and the children it reaped meanwhile).
    """

    workers: tuple[int, ...]
    server: int | None

    def sample(self) -> dict[str, float]:
        hz = os.sysconf("SC_CLK_TCK")
        out = {
            "workers": sum(_ticks(p) for w in self.workers for p in _tree(w)) / hz,
            "driver": time.process_time(),
        }
        if self.server is not None:
            tree = _tree(self.server)
            out["server"] = (_ticks(self.server, reaped=True)
                             + sum(_ticks(p) for p in tree[1:])) / hz  # fmt: skip
        return out

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {k: round(after[k] - before[k], 3) for k in before}


def _server_pid() -> int | None:
    value = os.environ.get("BENCH_SERVER_PID")
    return int(value) if value else None


def _throughput(system: System, n: int, clock: CpuClock) -> dict[str, object]:
    cpu_before = clock.sample()
    started = time.perf_counter()
    for first in range(0, n, BATCH):
        system.enqueue(range(first, min(n, first + BATCH)))
    enqueued = time.perf_counter()
    ended = wait_done(system, WARMUP_JOBS + n, timeout_s=max(600, n / 10))
    cpu = CpuClock.spent(cpu_before, clock.sample())
    return {
        "jobs": n,
        "seconds": ended - started,
        "jobs_per_s": n / (ended - started),
        "enqueue_s": enqueued - started,
        "cpu_s": cpu,
        "cpu_us_per_job": {k: round(v / n * 1e6, 1) for k, v in cpu.items()},
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
