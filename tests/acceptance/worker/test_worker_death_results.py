"""A job whose worker process died says why in its results, not only in its log, on SQLite
and PostgreSQL: ``sys.jobs.findById(id).results().error`` holds the death's code
(``memoryLimit`` / ``crashed``) and the same message as the job's last ERROR line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import DONE_STATUSES, Host
from sysjobs.runtime import Limits
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker import WorkerProcesses

#: One huge allocation: fatal to V8, so it ends the worker process (a small heap: sooner).
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    limits = Limits(heap_bytes=32 * 1024 * 1024)
    with Host(db_url, limits=limits, pool_size=1, launcher=launcher) as opened:
        yield opened


@pytest.fixture
def workers(host: Host) -> Iterator[WorkerProcesses]:
    with host.workers(1, data_limit_mb=1024, shutdown_grace_s=2.0) as started:
        yield started


def test_a_job_whose_worker_process_ran_out_of_memory_says_so_in_its_results(
    host: Host, workers: WorkerProcesses
) -> None:
    (pid,) = workers.pids()
    job = host.start_script_job(ARRAY_BOMB, label="bomb", timeout_s=120)
    ended = host.engine.wait(job.id, DONE_STATUSES, 240)
    assert (ended.status, ended.has_errors) == ("FINISHED", True)
    error = (ended.results or {}).get("error")
    assert error is not None and error["code"] == "memoryLimit", ended.results
    assert f"worker process {pid} died" in error["message"], error
    last = list(host.engine.logs(job.id, {"level": "ERROR"}))[-1].message
    assert error["message"] == last  # one reason, in the log and in the results
    seen = host.run(
        f"var e = sys.jobs.findById('{job.id}').results().error; [e.code, e.message]"
    )
    assert seen.ok and seen.value == ["memoryLimit", last], seen.error
    nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE_STATUSES, 120)
    assert nxt.results == {"value": 42}  # a replacement process serves on
