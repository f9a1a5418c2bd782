"""A worker process whose supervisor was killed stops by itself (no orphaned claimers)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
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


def _exits(pid: int, timeout_s: float) -> bool:
    """Whether ``pid`` exits within ``timeout_s``. It is not our child (nothing to
    ``waitpid`` for): its pidfd turns readable when it exits, reaped or not."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout_s)[0])
    finally:
        os.close(fd)


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
    assert _exits(child, 30), "the orphaned worker kept running"
