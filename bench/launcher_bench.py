"""What a worker process's start costs: ``sysjobs worker -c N`` up, and a crashed child replaced.

    .venv/bin/python bench/launcher_bench.py --checkout base=/tmp/wt-base --checkout new=.

For each checkout in turn (interleaved, round after round, so that the shared machine's load
hits both alike), a fresh SQLite database, then:

* **start**: ``python -m sysjobs.cli worker -c N`` until its N worker processes registered
  — the wall time, and the CPU of the whole process tree at that moment (the supervisor, a
  launcher if there is one, the children: each one's user + system time, read from /proc);
* **replace**: one child killed with SIGKILL, until its replacement registered — the wall
  time, and the CPU the tree spent meanwhile (the replacement's start, the supervisor's and
  the launcher's share, the other children's heartbeats).

Prints a table of medians per checkout and the ratio of each to the first one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    start_wall: float
    start_cpu: float
    replace_wall: float
    replace_cpu: float


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()
    except OSError:
        return None


def _tree(root: int) -> list[int]:
    """``root`` and every live descendant (a child in a session of its own included)."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat(int(name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _cpu(root: int) -> float:
    """User + system seconds of the live tree, with what its members reaped."""
    total = 0
    for pid in _tree(root):
        fields = _stat(pid)
        if fields is not None:  # utime stime cutime cstime (fields 14-17 of stat)
            total += sum(int(v) for v in fields[11:15])
    return total / TICKS


def _workers(url: str) -> set[int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT pid FROM workers")).all()
    finally:
        engine.dispose()
    return {int(pid) for (pid,) in rows}


def _until(check: Callable[[], bool], timeout_s: float = 120.0) -> float:
    """Seconds until ``check()`` holds (a benchmark may poll: nothing here is a test)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise TimeoutError("worker processes did not register")
        time.sleep(0.02)
    return time.monotonic() - started


def one_round(checkout: Path, processes: int, template: Path) -> Sample:
    with tempfile.TemporaryDirectory(prefix="launcher-bench-") as folder:
        db = Path(folder) / "w.db"
        shutil.copyfile(template, db)
        url = f"sqlite:///{db}"
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        command = [str(checkout / ".venv/bin/python"), "-m", "sysjobs.cli", "worker",
                   "--db", url, "-c", str(processes)]  # fmt: skip
        began = time.monotonic()
        proc = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            _until(lambda: len(_workers(url)) >= processes)
            start_wall, start_cpu = time.monotonic() - began, _cpu(proc.pid)
            before = _workers(url)
            victim = min(before)
            cpu_before = _cpu(proc.pid)
            os.kill(victim, signal.SIGKILL)
            replace_wall = _until(lambda: len(_workers(url) - before) >= 1)
            replace_cpu = _cpu(proc.pid) - cpu_before
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return Sample(start_wall, start_cpu, replace_wall, replace_cpu)


def _template(folder: Path) -> Path:
    path = folder / "template.db"
    subprocess.run([sys.executable, "-m", "sysjobs.cli", "db", "upgrade", "--db",
                    f"sqlite:///{path}"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", required=True, help="name=path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    checkouts = [(n, Path(p).resolve()) for n, _, p in (c.partition("=") for c in args.checkout)]
    samples: dict[str, list[Sample]] = {name: [] for name, _ in checkouts}
    with tempfile.TemporaryDirectory(prefix="launcher-bench-t-") as folder:
        template = _template(Path(folder))
        for _ in range(args.rounds):
            for name, path in checkouts:
                samples[name].append(one_round(path, args.processes, template))
    first = checkouts[0][0]
    print(f"| checkout | start wall s | start CPU s | replace wall s | replace CPU s |"
          f"  (medians of {args.rounds}, -c {args.processes})")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    base = {f: statistics.median(getattr(s, f) for s in samples[first])
            for f in Sample.__dataclass_fields__}  # fmt: skip
    for name, _ in checkouts:
        cells = []
        for field in Sample.__dataclass_fields__:
            value = statistics.median(getattr(s, field) for s in samples[name])
            cells.append(f"{value:.2f} ({value / base[field]:.2f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
