"""The SQL a worker makes per no-op job, and its process CPU a job (bench/README.md, "the
statements of a JavaScript no-op job").

What the peers bench's sysjobs worker runs (``sys_sysjobs``: its engine, its job types, a
Host's script runner), in this process: one pool of ``SLOTS`` slots first runs ``WARM``
jobs (every slot's context built), then stops; ``N`` more jobs are enqueued and a new pool
on the same runner runs them while SQLAlchemy's ``before_cursor_execute`` (and the pool's
checkouts, the transactions' begins, commits and rollbacks) are counted on every engine of
the process. Prints the statements a job, most frequent first (literals folded), and the
process CPU a job of that phase. The driver's own polling (``SELECT count(*) …``) is
counted too: it is the same for every case.

    PYTHONPATH=. SLOTS=32 WARM=2000 python bench/statements_bench.py URL js|python N

``PYTHONPATH=/tmp/wt-old`` runs an older checkout's worker (JavaScript only there).
"""

from __future__ import annotations

import collections
import os
import re
import sys
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

URL, KIND = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
os.environ["BENCH_SYSJOBS_URL"] = URL
os.environ["BENCH_SYSJOBS_JOB"] = "python" if KIND == "python" else "javascript"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sys_sysjobs  # noqa: E402  (reads BENCH_SYSJOBS_JOB when imported)

from sysjobs.jobs import Engine  # noqa: E402
from sysjobs.worker import WorkerPool  # noqa: E402

SLOTS = int(os.environ.get("SLOTS", "1"))
WARM = int(os.environ.get("WARM", "20"))


class Counter:
    """Statements and connection events while :attr:`on`."""

    def __init__(self) -> None:
        self.on = False
        self.counts: collections.Counter[str] = collections.Counter()

    def add(self, what: str) -> None:
        if self.on:
            self.counts[what] += 1

    def statement(self, _c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if self.on:
            folded = re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "?", " ".join(statement.split())))
            self.counts[folded[:200]] += 1


def _wait(driver: sys_sysjobs.Driver, total: int) -> None:
    while driver.done() < total:
        time.sleep(0.05)


def main() -> None:
    counter = Counter()
    event.listen(sa.engine.Engine, "before_cursor_execute", counter.statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(sa.engine.Engine, name, lambda _c, n=name: counter.add(f"<{n}>"))
    event.listen(sa.pool.Pool, "checkout", lambda *_a: counter.add("<checkout>"))
    driver = sys_sysjobs.Driver(URL)
    driver.prepare()
    engine = Engine.open(URL, migrate=False)
    sys_sysjobs.setup(engine)
    runner = sys_sysjobs.runner()
    pool = WorkerPool(engine, concurrency=SLOTS, script_runner=runner).start()
    driver.enqueue(list(range(WARM)))
    _wait(driver, WARM)
    pool.stop()
    driver.enqueue(list(range(N)))
    counter.on = True
    cpu = time.process_time()
    pool = WorkerPool(engine, concurrency=SLOTS, script_runner=runner).start()
    _wait(driver, WARM + N)
    cpu = time.process_time() - cpu
    counter.on = False
    pool.stop()
    total = sum(counter.counts.values())
    print(f"# {KIND} {engine.database.name} slots={SLOTS} N={N}: {total / N:.2f} events a job, "
          f"{cpu / N * 1e6:.0f} us of process CPU a job")  # fmt: skip
    for what, count in counter.counts.most_common():
        print(f"{count / N:7.3f}  {what}")
    engine.close()
    driver.cleanup()


if __name__ == "__main__":
    main()
