"""A worker process whose supervisor was killed stops by itself (no orphaned claimers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SUPERVISOR = textwrap.dedent(
    """
    import sys, time
    from sysjobs.worker import WorkerConfig, WorkerProcesses
    config = WorkerConfig(sys.argv[1], concurrency=1, lease_s=2.0,
                          setup="tests.integration.engine.jobtypes:register")
    supervisor = WorkerProcesses(config, processes=1).start()
    print(supervisor.pids()[0], flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: it only awaits its reaping
        return stat.read().split()[2] != "Z"


def test_a_worker_process_exits_when_its_supervisor_is_killed(db_url: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the orphaned worker kept running"
        time.sleep(0.1)
