"""Supervised worker processes paused and resumed through their control sockets: the same
processes go on (none is stopped or started), a job started while paused stays PENDING, and
resuming runs it. (What the pause guarantees inside a pool — no claim under way once it
returned, a running job finishes — is shown in tests/integration/engine/test_pool_pause.py.)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.worker import WorkerConfig, WorkerProcesses
from tests.integration.engine.helpers import open_engine

SETUP = "tests.integration.engine.jobtypes:register"


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=2.0)) as engine:
        yield engine


def _one_worker_process(db_url: str, **options: float) -> Iterator[WorkerProcesses]:
    config = WorkerConfig(db_url, concurrency=2, lease_s=2.0, shutdown_grace_s=2.0, setup=SETUP)
    supervisor = WorkerProcesses(config, processes=1, **options).start()
    yield supervisor
    supervisor.stop(timeout_s=10)


@pytest.fixture
def workers(db_url: str) -> Iterator[WorkerProcesses]:
    yield from _one_worker_process(db_url)


def test_paused_worker_processes_leave_a_job_pending_and_run_it_once_resumed(
    eng: Engine, workers: WorkerProcesses
) -> None:
    first = eng.enqueue("ECHO", {"text": "before"})
    assert eng.wait(first.id, ["FINISHED"], 60).status == "FINISHED"
    pids = workers.pids()
    workers.pause()  # returns once the child paused
    job = eng.enqueue("ECHO", {"text": "while paused"})
    workers.pause()  # again (harmless): a round trip through the child after the commit
    assert eng.get(job.id).status == "PENDING"
    workers.resume()
    workers.resume()
    assert eng.wait(job.id, ["FINISHED"], 60).results == {"echo": "while paused"}
    assert workers.pids() == pids  # the same process throughout


@pytest.fixture
def impatient(db_url: str) -> Iterator[WorkerProcesses]:
    """One worker process whose supervisor waits 2 s for a pause or resume to be answered
    (a starting replacement answers within it)."""
    yield from _one_worker_process(db_url, command_timeout_s=2.0)


def test_a_worker_process_that_does_not_answer_a_pause_is_ended_and_replaced_paused(
    eng: Engine, impatient: WorkerProcesses
) -> None:
    first = eng.enqueue("ECHO", {"text": "before"})
    assert eng.wait(first.id, ["FINISHED"], 60).status == "FINISHED"
    [hung] = impatient.children.values()
    started = impatient.spawned
    os.kill(hung.proc.pid, signal.SIGSTOP)
    _, status = os.waitpid(hung.proc.pid, os.WUNTRACED)  # a stop lands asynchronously
    assert os.WIFSTOPPED(status)  # every thread stopped: it can answer nothing now
    impatient.pause()  # returns: the hung child was ended instead of waited for
    assert hung.proc.wait(10) == -signal.SIGKILL
    job = eng.enqueue("ECHO", {"text": "while paused"})
    assert impatient.wait_spawned(started, 30)  # its replacement, started paused
    assert hung.proc.pid not in impatient.pids()
    impatient.pause()  # a round trip through the replacement: it is up and paused
    assert eng.get(job.id).status == "PENDING"
    impatient.resume()
    assert eng.wait(job.id, ["FINISHED"], 60).results == {"echo": "while paused"}
