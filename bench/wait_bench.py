"""``waitForJob`` wake-up: how long after another process changes a job's status does a
script blocked in ``sys.jobs.waitForJob`` return?

A waiter process (a :class:`~sysjobs.Host`) runs ``sys.jobs.waitForJob(id, 'CANCELED', …)``
for each job named on its stdin and returns ``Date.now()`` right after it (ms resolution).
The bench process cancels that job (a PENDING job is canceled at once) after a random
20-200 ms, so the change lands at any point of the waiter's poll cycle, and takes the clock
right after its commit. Wake-up = waiter's clock - bench's clock (one machine, one clock).
On PostgreSQL the hint is a NOTIFY; on SQLite, which has no cross-process signal, the poll.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import harness

from sysjobs.jobs import Engine
from sysjobs.worker.scripts import script_job_type

ROUNDS = 40


def waiter(url: str) -> None:
    """Child: wait for each job id read from stdin; print ``woken <time>`` after each."""
    from sysjobs.host import Host

    with Host(url) as host:
        print("ready", flush=True)
        for line in sys.stdin:
            job_id = line.strip()
            print("waiting", flush=True)
            result = host.run(f"sys.jobs.waitForJob('{job_id}', 'CANCELED', 10000); Date.now()")
            woken = result.value / 1000 if result.ok else 0.0
            print(f"woken {woken} {result.ok}", flush=True)


def measure(url: str, rounds: int = ROUNDS) -> dict[str, Any]:
    """Wake-up figures (ms) for ``url``."""
    engine = Engine.open(url)
    engine.register(script_job_type())
    child = subprocess.Popen(
        [sys.executable, __file__, "waiter", url], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    wakes: list[float] = []
    try:
        assert child.stdout.readline().strip() == "ready"
        for _ in range(rounds):
            job = engine.enqueue("RUN_SCRIPT", {"_source": "1"}, label="wait-bench")
            child.stdin.write(job.id + "\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "waiting"
            time.sleep(random.uniform(0.02, 0.2))
            engine.cancel(job.id)
            changed = time.time()
            _word, woken, ok = child.stdout.readline().split()
            if ok == "True":
                wakes.append((float(woken) - changed) * 1000)
    finally:
        child.stdin.close()
        child.wait(10)
        engine.close()
    return {
        "rounds": len(wakes),
        "p50_ms": statistics.median(wakes),
        "p99_ms": harness.percentile(wakes, 99),
        "max_ms": max(wakes),
    }


if __name__ == "__main__":
    if sys.argv[1] == "waiter":
        waiter(sys.argv[2])
    else:
        print(json.dumps(measure(sys.argv[1])))
