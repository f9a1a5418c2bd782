"""The sandbox's share of an action over records, in one process: one run per record
against one V8 call per chunk (``Session.run_each``) and the floor, in one session each.

The demo app's ``logSomething`` over N seeded companies (``BENCH_CHUNK_N``, default 2,000),
three rounds, printing µs of CPU (and of wall clock) a record for each way. No job
machinery: what the chunk call saves is the per-run hand-offs, not database work.

Run: ``python bench/chunk_bench.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
N = int(os.environ.get("BENCH_CHUNK_N", "2000"))
CHUNK = 100


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _timed(work: Callable[[], None], n: int) -> tuple[float, float]:
    """(CPU µs, wall µs) a record of ``work`` over ``n`` records."""
    cpu, wall = _cpu(), time.perf_counter()
    work()
    return (_cpu() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


def main() -> None:
    sys.path.insert(0, str(HERE))
    from records_bench import FLOOR, _host, _seed

    from sysjobs.app.scripts import wrap

    host = _host(f"sqlite:///{tempfile.mkdtemp(prefix='sysjobs-chunk-')}/bench.db")
    try:
        _seed(host, N)
        found, _count = host.app.records.find("companies", {"_size": N})
        wired = [host.app.records.wire(r) for r in found]
        action = host.app.definition.action("companies", "logSomething")
        source = wrap(host.app.definition.script(action.script))
        params = {"params": {"param1": "a", "param2": "b"}}
        sandbox = host.sandbox
        lines: list[str] = []

        def floor() -> None:
            with sandbox.session(log_sink=lines.append) as s:
                s.run(FLOOR, timeout_s=600)

        def chunks() -> None:
            with sandbox.session(log_sink=lines.append) as s:
                for i in range(0, N, CHUNK):
                    items = [{"record": w, "oldRecord": w} for w in wired[i:i + CHUNK]]
                    s.run_each(source, items, lambda _i, _r: True, globals={"action": params},
                               timeout_s=30)  # fmt: skip

        def one_by_one() -> None:
            with sandbox.session(log_sink=lines.append) as s:
                for w in wired:
                    s.run(source, globals={"record": w, "oldRecord": w, "action": params},
                          timeout_s=30)  # fmt: skip

        ways: dict[str, Callable[[], None]] = {
            "floor": floor, "one call per chunk": chunks, "one run per record": one_by_one,
        }  # fmt: skip
        for _round in range(3):
            shown: list[Any] = []
            for name, work in ways.items():
                cpu, wall = _timed(work, N)
                shown.append(f"{name} {cpu:.0f} ({wall:.0f})")
            print("µs CPU (wall) a record: " + ", ".join(shown), flush=True)
    finally:
        host.close()


if __name__ == "__main__":
    main()
