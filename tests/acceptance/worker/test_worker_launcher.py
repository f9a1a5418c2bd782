"""Worker processes forked by a pre-imported launcher (``sysjobs/runtime/launcher.py``)
serve, die, are replaced, pause, resume and stop as fresh interpreters do; a dead launcher
makes the next start a fresh interpreter, and no job is lost to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import DONE_STATUSES, Host
from sysjobs.jobs import Engine, EngineSettings, JobStatus
from sysjobs.runtime import Limits
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker import WorkerConfig, WorkerProcesses
from sysjobs.worker.processes import LAUNCH_PRELOAD
from tests.acceptance.worker.test_worker_orphans import _exits
from tests.acceptance.worker.waits import wait_for
from tests.integration.engine.helpers import open_engine

SETUP = "tests.integration.engine.jobtypes:register"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=2.0)) as engine:
        yield engine


def _config(db_url: str) -> WorkerConfig:
    return WorkerConfig(db_url, concurrency=2, lease_s=2.0, shutdown_grace_s=2.0, setup=SETUP)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def _messages(engine: Engine, job_id: str) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, {})]


def _started(engine: Engine, job_id: str) -> None:
    wait_for(engine, lambda: "started" in _messages(engine, job_id) or None, "log 'started'",
             keys=[f"job:{job_id}"])  # fmt: skip


def test_a_forked_worker_process_serves_jobs_and_is_replaced_through_the_launcher(
    eng: Engine, db_url: str, launcher: Launcher
) -> None:
    with WorkerProcesses(_config(db_url), processes=1, launcher=launcher) as workers:
        (pid,) = workers.pids()
        assert _parent(pid) == launcher.proc.pid  # forked, not a fresh interpreter
        job = eng.enqueue("ECHO", {"text": "from a forked child"})
        assert eng.wait(job.id, ["FINISHED"], 60).results == {"echo": "from a forked child"}
        stuck = eng.enqueue("STUBBORN", {"seconds": 60})
        _started(eng, stuck.id)
        started = workers.spawned
        os.kill(pid, signal.SIGKILL)
        ended = eng.wait(stuck.id, ["FINISHED"], 30)
        assert ended.has_errors
        assert f"worker process {pid} died (killed by SIGKILL); crashed" in _messages(eng, stuck.id)[-1]
        assert workers.wait_spawned(started, 30)
        (replacement,) = workers.pids()
        assert replacement != pid and _parent(replacement) == launcher.proc.pid
        again = eng.enqueue("ECHO", {"text": "from the replacement"})
        assert eng.wait(again.id, ["FINISHED"], 60).results == {"echo": "from the replacement"}


def test_a_forked_worker_process_puts_its_job_back_on_sigterm_and_stops_cleanly(
    eng: Engine, db_url: str, launcher: Launcher
) -> None:
    workers = WorkerProcesses(_config(db_url), processes=1, launcher=launcher).start()
    try:
        (child,) = workers.children.values()
        job = eng.enqueue("STEPPER", {"steps": 2000, "step_s": 0.01})
        wait_for(eng, lambda: "step 3" in _messages(eng, job.id) or None, "log 'step 3'",
                 keys=[f"job:{job.id}"])  # fmt: skip
    finally:
        workers.stop(timeout_s=10)  # SIGTERM: the job reaches a safe point, the child exits
    assert child.proc.returncode == 0
    assert eng.get(job.id).status is JobStatus.PENDING
    assert any(m.startswith("stopping after") for m in _messages(eng, job.id))


def test_forked_worker_processes_pause_and_resume(
    eng: Engine, db_url: str, launcher: Launcher
) -> None:
    with WorkerProcesses(_config(db_url), processes=2, launcher=launcher) as workers:
        pids = workers.pids()
        workers.pause()
        job = eng.enqueue("ECHO", {"text": "while paused"})
        workers.pause()  # a round trip through each child after the commit
        assert eng.get(job.id).status == "PENDING"
        workers.resume()
        assert eng.wait(job.id, ["FINISHED"], 60).results == {"echo": "while paused"}
        assert workers.pids() == pids


def test_a_killed_launcher_is_started_again_for_the_next_worker_process_and_loses_no_job(
    eng: Engine, db_url: str
) -> None:
    with Launcher.start(LAUNCH_PRELOAD) as own, WorkerProcesses(
        _config(db_url), processes=1, launcher=own, relay_stderr=False
    ) as workers:  # fmt: skip
        (pid,) = workers.pids()
        dead = own.proc.pid
        own.proc.kill()
        own.proc.wait()
        stuck = eng.enqueue("STUBBORN", {"seconds": 60})
        _started(eng, stuck.id)  # the launcher's child serves on without it
        started = workers.spawned
        os.kill(pid, signal.SIGKILL)
        ended = eng.wait(stuck.id, ["FINISHED"], 30)
        assert ended.has_errors  # its death is still seen, and its job ended with why
        assert f"worker process {pid} died (how: unknown" in _messages(eng, stuck.id)[-1]
        assert workers.wait_spawned(started, 30)
        (following,) = workers.pids()
        assert _parent(following) == own.proc.pid != dead  # forked by a new launcher
        job = eng.enqueue("ECHO", {"text": "after the launcher"})
        assert eng.wait(job.id, ["FINISHED"], 60).results == {"echo": "after the launcher"}


#: One huge allocation: fatal to V8, so it ends the worker process (a small heap: sooner).
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"


def test_a_forked_worker_process_that_ran_out_of_memory_is_told_apart_from_a_crash(
    db_url: str, launcher: Launcher
) -> None:
    limits = Limits(heap_bytes=32 * 1024 * 1024)
    with Host(db_url, limits=limits, pool_size=1, launcher=launcher) as host, host.workers(
        1, data_limit_mb=1024, shutdown_grace_s=2.0, relay_stderr=False
    ) as workers:  # fmt: skip
        (pid,) = workers.pids()
        assert _parent(pid) == launcher.proc.pid
        job = host.start_script_job(ARRAY_BOMB, label="bomb", timeout_s=120)
        ended = host.engine.wait(job.id, DONE_STATUSES, 240)
        error = (ended.results or {}).get("error")
        assert error is not None and error["code"] == "memoryLimit", ended.results
        assert f"worker process {pid} died" in error["message"]
        nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE_STATUSES, 120)
        assert nxt.results == {"value": 42}  # a replacement serves on


SUPERVISOR = textwrap.dedent(
    """
    import sys, time
    from sysjobs.runtime.launcher import Launcher
    from sysjobs.worker import WorkerConfig, WorkerProcesses
    from sysjobs.worker.processes import LAUNCH_PRELOAD
    config = WorkerConfig(sys.argv[1], concurrency=1, lease_s=2.0,
                          setup="tests.integration.engine.jobtypes:register")
    launcher = Launcher.start(LAUNCH_PRELOAD)
    supervisor = WorkerProcesses(config, processes=1, launcher=launcher).start()
    print(supervisor.pids()[0], launcher.proc.pid, flush=True)
    time.sleep(600)
    """
)


def test_a_forked_worker_process_and_its_launcher_exit_when_the_supervisor_is_killed(
    db_url: str,
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert parent.stdout is not None
    child, launcher = map(int, parent.stdout.readline().split())
    assert _parent(child) == launcher  # its parent is not the supervisor: its control socket tells
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    assert _exits(child, 30), "the orphaned worker kept running"
    assert _exits(launcher, 30), "the orphaned launcher kept running"
