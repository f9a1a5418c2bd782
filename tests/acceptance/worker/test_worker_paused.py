"""A worker process paused past its lease (SIGSTOP) loses the job; once resumed (SIGCONT)
its late writes are refused and the job keeps the ending the reaper gave it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineSettings, JobStatus
from sysjobs.worker import WorkerConfig, WorkerProcesses
from tests.acceptance.worker.waits import wait_for
from tests.chaos.freezing import freeze_outside_writes
from tests.integration.engine.helpers import AheadClock, open_engine

SETUP = "tests.integration.engine.jobtypes:register"
LEASE_S = 1.0


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=LEASE_S)) as engine:
        yield engine


def _messages(engine: Engine, job_id: str) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, {})]


def _reaped_past_the_lease(db_url: str) -> int:
    """What a reaper whose clock reads a lease's length ahead takes back: the frozen worker's
    last beat gave its lease at most ``LEASE_S`` from now, so on that clock it has run out —
    the time passes on the reaper's clock, the test does not wait for it."""
    ahead = AheadClock(int(LEASE_S * 1000) + 1)
    with open_engine(db_url, EngineSettings(lease_s=LEASE_S, clock=ahead)) as reaper:
        return reaper.reap()


# PostgreSQL only: on SQLite a process frozen inside a write transaction holds the file's
# write lock, so every other process waits for it — the paused-worker case is the shared
# PostgreSQL one (on SQLite, fencing is covered in-process by test_engine_leases).
#
# The worker logs every 20 ms: a SIGSTOP landing inside one of its write transactions would
# keep the job's row lock, and the reaper rightly skips a locked row (SKIP LOCKED). So the
# worker is frozen at a moment it holds no transaction (freeze_outside_writes).
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_paused_worker_process_loses_its_job_and_its_late_writes_are_refused(
    eng: Engine, db_url: str
) -> None:
    config = WorkerConfig(db_url, concurrency=1, lease_s=LEASE_S, setup=SETUP)
    supervisor = WorkerProcesses(config, processes=1).start()
    (pid,) = supervisor.pids()
    try:
        job = eng.enqueue("STEPPER", {"steps": 1000, "step_s": 0.02})
        wait_for(eng, lambda: "step 3" in _messages(eng, job.id) or None, "log 'step 3'",
                 keys=[f"job:{job.id}"])  # fmt: skip
        freeze_outside_writes(db_url, pid)
        assert _reaped_past_the_lease(db_url) == 1
        lost = eng.require(job.id)
        assert lost.status is JobStatus.FINISHED and lost.has_errors
        logs_when_lost = _messages(eng, job.id)
        os.kill(pid, signal.SIGCONT)
        # The resumed worker tries to go on writing; with one slot, it runs the next job
        # only once it is done with the lost one — so by then every late write was tried.
        after = eng.enqueue("STEPPER", {"steps": 1, "step_s": 0.0})
        assert eng.wait(after.id, "FINISHED", 60).status is JobStatus.FINISHED
        assert _messages(eng, job.id) == logs_when_lost
        assert eng.require(job.id) == lost
        assert logs_when_lost[-1].startswith("Job lost: worker ")
    finally:
        os.kill(pid, signal.SIGCONT)
        supervisor.stop(timeout_s=10)
