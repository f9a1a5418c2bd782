"""The CPU one no-op JavaScript job's run costs a worker, this checkout against another.

What a worker slot does for one claimed RUN_SCRIPT job, without the engine: the Host's
script runner bound to the job (``for_job``), then one run of the source ``1`` in a new
session — take a context (a recycled one, proven clean in the same V8 call as the script),
the script, its canary, the verdicts of the recycling rules, the context given back.

Two child processes, one per checkout (``PYTHONPATH``), each with its own Host (SQLite in a
temporary directory: the runs never touch it). The parent sends them batches of runs in
turn (A B B A …), so a drift of the machine's load falls on both alike, and reads back
each batch's process CPU (user + system of every thread: the V8 threads too) a run. A
batch runs its runs on ``threads`` threads at once (1: a quiet worker; 32: every slot).

    PYTHONPATH=. python bench/run_cost_bench.py [--before /tmp/wt-old] [--runs 2000]
        [--rounds 6] [--threads 1,8,32] [--json out.json]

``--profile`` prints a cProfile of this checkout's runs instead (one thread).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = "1"
WARMUP = 300


# ---- the child: one checkout's runner ------------------------------------------------
def _job_runner(runner: Any) -> Any:
    """``runner`` bound to one job, as a worker slot binds it (both checkouts' signatures)."""

    def write(_level: str, _message: str) -> None:
        return None

    try:
        return runner.for_job(write, user=None, name="bench")
    except TypeError:  # an older checkout: for_job(write)
        return runner.for_job(write)


def _runs(runner: Any, first: int, count: int) -> None:
    for i in range(first, first + count):
        outcome = _job_runner(runner).run(SOURCE, job_id=f"{i:024x}", globals={},
                                          timeout_s=30.0)  # fmt: skip
        if not outcome.ok:
            raise RuntimeError(f"a no-op run failed: {outcome}")


def _batch(runner: Any, start: int, runs: int, threads: int) -> dict[str, float]:
    each = runs // threads
    gate = threading.Barrier(threads + 1)

    def work(k: int) -> None:
        gate.wait()
        _runs(runner, start + k * each, each)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    gate.wait()
    for t in pool:
        t.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    done = each * threads
    return {"cpu_us": cpu / done * 1e6, "wall_us": wall / done * 1e6, "runs": done}


def child() -> None:
    from sysjobs.host import Host

    tmp = tempfile.mkdtemp(prefix="runcost-")
    host = Host(f"sqlite:///{tmp}/bench.db")
    runner = host.runner
    counter = 10**6
    _runs(runner, counter, WARMUP)
    counter += WARMUP
    # Every slot busy once: the contexts a worker's slots use are built before the batches.
    _batch(runner, counter, 32 * 20, 32)
    counter += 32 * 20 + 1
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("quit"):
            break
        result = _batch(runner, counter, int(cmd["runs"]), int(cmd["threads"]))
        counter += int(cmd["runs"]) + 1
        result["counts"] = dict(host.sandbox.counts)
        print(json.dumps(result), flush=True)
    host.close()


def profile(runs: int) -> None:
    import cProfile
    import pstats

    from sysjobs.host import Host

    tmp = tempfile.mkdtemp(prefix="runcost-")
    host = Host(f"sqlite:///{tmp}/bench.db")
    _runs(host.runner, 10**6, WARMUP)
    prof = cProfile.Profile()
    prof.enable()
    _runs(host.runner, 2 * 10**6, runs)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    host.close()


# ---- the parent: interleaved batches ---------------------------------------------------
class Child:
    def __init__(self, tree: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "run_cost_bench.py"), "child"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("a bench child ended early")
        return dict(json.loads(line))

    def batch(self, runs: int, threads: int) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"runs": runs, "threads": threads}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write('{"quit": true}\n')
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def compare(before: Path, runs: int, rounds: int, threads: list[int]) -> dict[str, Any]:
    now, old = Child(HERE.parent), Child(before)
    out: dict[str, Any] = {"runs": runs, "rounds": rounds, "before": str(before), "by_threads": {}}
    try:
        for t in threads:
            pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for rnd in range(rounds):
                first, second = (now, old) if rnd % 2 == 0 else (old, now)
                a, b = first.batch(runs, t), second.batch(runs, t)
                pairs.append((a, b) if first is now else (b, a))
            ratios = [p[0]["cpu_us"] / p[1]["cpu_us"] for p in pairs]
            row = {
                "now_cpu_us": [round(p[0]["cpu_us"], 1) for p in pairs],
                "before_cpu_us": [round(p[1]["cpu_us"], 1) for p in pairs],
                "ratio": [round(r, 3) for r in ratios],
                "ratio_median": round(statistics.median(ratios), 3),
                "now_median_us": round(statistics.median(p[0]["cpu_us"] for p in pairs), 1),
                "before_median_us": round(statistics.median(p[1]["cpu_us"] for p in pairs), 1),
                "load1": os.getloadavg()[0],
            }
            out["by_threads"][str(t)] = row
            print(f"threads {t:3d}: CPU µs a run now {row['now_median_us']:7.1f}  before "
                  f"{row['before_median_us']:7.1f}  now/before {row['ratio_median']:.3f} "
                  f"({min(ratios):.3f} to {max(ratios):.3f})  load {row['load1']:.1f}",
                  flush=True)  # fmt: skip
    finally:
        now.close()
        old.close()
    return out


def main() -> None:
    if sys.argv[1:2] == ["child"]:
        child()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=os.environ.get("BENCH_NOOP_BEFORE", "/tmp/wt-old"))
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", default="1,8,32")
    parser.add_argument("--json")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        profile(args.runs)
        return
    threads = [int(t) for t in args.threads.split(",")]
    result = compare(Path(args.before).resolve(), args.runs, args.rounds, threads)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
