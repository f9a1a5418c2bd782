"""Worker processes: spawned children share one database; SIGKILL and SIGTERM are survived,
and under load every job runs exactly once."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sysjobs.jobs import Engine, EngineSettings, Job, JobStatus
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker import WorkerConfig, WorkerProcesses, processes
from tests.acceptance.worker.waits import registered, wait_for
from tests.integration.engine.helpers import open_engine

SETUP = "tests.integration.engine.jobtypes:register"
#: Jobs shared by the four processes in the exactly-once test (override for soaks): 4 x 150
#: in ``make test`` — 32 slots in four processes, all registered before the first job, so
#: every claim races the other three from the first job to the last (a job is one log
#: line: the count sets how many claims race, not how they race) — and
#: 4 x 2,000 under ``make chaos`` (``SYSJOBS_CHAOS_HEAVY=1``).
HEAVY = os.environ.get("SYSJOBS_CHAOS_HEAVY") == "1"
SOAK_JOBS = int(os.environ.get("SYSJOBS_SOAK_JOBS", "8000" if HEAVY else "600"))


@pytest.fixture(scope="module")
def eng(module_db_url: str) -> Iterator[Engine]:
    with open_engine(module_db_url, EngineSettings(lease_s=2.0)) as engine:
        yield engine


@pytest.fixture(scope="module")
def workers(module_db_url: str, launcher: Launcher) -> Iterator[WorkerProcesses]:
    """One supervisor and its one worker process per module and backend (a process start is
    ~0.6 s of CPU of imports): each test reads back only the jobs it enqueued, and a test
    that kills the process leaves its replacement serving (what that test shows) for the
    next. Every job a test starts has ended when it returns, so none runs into another."""
    config = WorkerConfig(
        module_db_url, concurrency=2, lease_s=2.0, shutdown_grace_s=2.0, setup=SETUP
    )
    supervisor = WorkerProcesses(config, processes=1, launcher=launcher).start()
    yield supervisor
    supervisor.stop(timeout_s=10)


def _serving(workers: WorkerProcesses) -> int:
    """The pid of the one live worker process (a replacement a previous test's kill asked for
    may still be starting: its job waits for it)."""
    (pid,) = workers.pids()
    return pid


def _messages(engine: Engine, job_id: str) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, {})]


def _wait_for_log(engine: Engine, job_id: str, text: str) -> None:
    """Until the child wrote the line ``text`` for the job (read again on each commit hint)."""
    wait_for(engine, lambda: text in _messages(engine, job_id) or None, f"log {text!r}",
             keys=[f"job:{job_id}"])  # fmt: skip


def test_a_worker_process_runs_jobs_of_types_registered_by_the_setup_hook(
    eng: Engine, workers: WorkerProcesses
) -> None:
    job = eng.enqueue("ECHO", {"text": "from a child"})
    done = eng.wait(job.id, ["FINISHED"], 60)
    assert done.results == {"echo": "from a child"}


def test_a_worker_process_collects_garbage_once_started_whether_forked_or_fresh(
    eng: Engine, workers: WorkerProcesses, module_db_url: str
) -> None:
    """A fresh interpreter imports and builds its start-up with the collector off (~10 % of
    its imports' CPU), then turns it on and freezes the start-up, as the launcher does
    before it forks: a worker process left collecting nothing would grow with every
    reference cycle its jobs make."""
    forked = eng.wait(eng.enqueue("GC_STATE", {}).id, ["FINISHED"], 60)
    workers.pause()  # the module's (forked) process takes no job until the fresh one is done
    try:
        config = WorkerConfig(module_db_url, concurrency=1, lease_s=2.0, setup=SETUP)
        fresh = WorkerProcesses(config, processes=1).start()
        try:
            started_fresh = eng.wait(eng.enqueue("GC_STATE", {}).id, ["FINISHED"], 60)
        finally:
            fresh.stop(timeout_s=10)
    finally:
        workers.resume()
    for done in (forked, started_fresh):
        assert done.results == {"collecting": True, "frozen": True}


def test_a_worker_process_killed_once_up_is_replaced_without_a_pause(
    eng: Engine, workers: WorkerProcesses, module_db_url: str, launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A process that built its start-up and then died — a job's memory bomb, a kill — is no
    failed start: its replacement starts at once, however soon after its own start it died.
    (Counted as one, scripts that end their worker processes on purpose slowed every
    replacement of the fleet to one in 30 s.) Every death counts as "soon" here."""
    monkeypatch.setattr(processes, "QUICK_DEATH_S", 3600.0)
    config = WorkerConfig(module_db_url, concurrency=1, lease_s=2.0, setup=SETUP)
    workers.pause()  # the module's process takes none of these jobs
    try:
        with WorkerProcesses(config, processes=1, launcher=launcher) as supervisor:
            for _ in range(3):
                (pid,) = supervisor.pids()
                up = eng.enqueue("ECHO", {"text": "up"})  # it ran a job: its start-up is built
                assert eng.wait(up.id, ["FINISHED"], 60).results == {"echo": "up"}
                spawned = supervisor.spawned
                os.kill(pid, signal.SIGKILL)
                assert supervisor.wait_spawned(spawned, 60)
            assert supervisor._quick_deaths == 0
    finally:
        workers.resume()


def _signalled_mid_job(eng: Engine, workers: WorkerProcesses, signum: int) -> tuple[int, Job]:
    """A long job started in a worker process, then ``signum`` sent to that process: its
    pid, and the job once ended."""
    job = eng.enqueue("STUBBORN", {"seconds": 60})
    _wait_for_log(eng, job.id, "started")
    pid = _serving(workers)
    os.kill(pid, signum)
    return pid, eng.wait(job.id, ["FINISHED"], 30)


def test_sigkill_mid_job_ends_the_job_with_the_reason_and_keeps_its_logs(
    eng: Engine, workers: WorkerProcesses
) -> None:
    pid, ended = _signalled_mid_job(eng, workers, signal.SIGKILL)
    assert ended.has_errors
    messages = _messages(eng, ended.id)
    assert messages[0] == "started"
    assert f"worker process {pid} died (killed by SIGKILL)" in messages[-1]
    assert "not retried because its type is not idempotent" in messages[-1]
    # A replacement took over: new jobs still run.
    assert eng.wait(eng.enqueue("NOOP", {}).id, ["FINISHED"], 60).status is JobStatus.FINISHED


def test_a_worker_process_that_traps_with_nothing_said_ends_its_job_as_out_of_memory(
    eng: Engine, workers: WorkerProcesses
) -> None:
    # How the native allocator ends a process at its data limit: a trap, no line on stderr
    # (sysjobs.runtime.process.trapped_silently); V8 says why before each of its own traps.
    pid, ended = _signalled_mid_job(eng, workers, signal.SIGTRAP)
    last = _messages(eng, ended.id)[-1]
    assert f"worker process {pid} died (killed by SIGTRAP); memoryLimit" in last, last
    assert (ended.results or {})["error"]["code"] == "memoryLimit", ended.results


def test_sigkill_mid_job_retries_an_idempotent_job_on_the_replacement(
    eng: Engine, workers: WorkerProcesses
) -> None:
    job = eng.enqueue("STUBBORN_IDEMPOTENT", {"seconds": 1.0})
    _wait_for_log(eng, job.id, "started")
    os.kill(_serving(workers), signal.SIGKILL)
    done = eng.wait(job.id, ["FINISHED"], 60)
    messages = _messages(eng, job.id)
    assert not done.has_errors and done.attempt == 2
    assert messages.count("started") == 2 and messages[-1] == "woke up"
    assert any(m.startswith("Retrying: worker process") for m in messages)


def test_sigterm_puts_a_running_job_back_at_a_safe_point(
    own_db_url: str, launcher: Launcher
) -> None:
    # A database of its own: the job it leaves PENDING would run under the module's workers.
    config = WorkerConfig(own_db_url, concurrency=1, lease_s=2.0, shutdown_grace_s=5.0, setup=SETUP)
    with open_engine(own_db_url, EngineSettings(lease_s=2.0)) as eng:
        supervisor = WorkerProcesses(config, processes=1, launcher=launcher).start()
        try:
            job = eng.enqueue("STEPPER", {"steps": 2000, "step_s": 0.01})
            _wait_for_log(eng, job.id, "step 3")
            os.kill(supervisor.pids()[0], signal.SIGTERM)
            back = eng.wait(job.id, ["PENDING"], 30)
        finally:
            supervisor.stop(timeout_s=10)
        assert back.status is JobStatus.PENDING
        assert any(m.startswith("stopping after") for m in _messages(eng, job.id))


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_four_worker_processes_run_every_job_of_a_shared_queue_exactly_once(
    db_url: str, launcher: Launcher
) -> None:
    with open_engine(db_url, EngineSettings(lease_s=10.0)) as engine:
        config = WorkerConfig(db_url, concurrency=8, lease_s=10.0, setup=SETUP)
        supervisor = WorkerProcesses(config, processes=4, launcher=launcher).start()
        try:
            # All four claim from the first job on (not the first one up alone).
            registered(engine, 4)
            jobs = engine.enqueue_many("RECORD_RUN", [{} for _ in range(SOAK_JOBS)])
            wait_for(engine, lambda: engine.find({"status": "FINISHED"}).count() >= SOAK_JOBS
                     or None, f"{SOAK_JOBS} jobs finished", timeout_s=240)  # fmt: skip
        finally:
            supervisor.stop(timeout_s=20)
        runs, claims, pids = _tally(db_url)
    assert runs == Counter({j.id: 1 for j in jobs})  # one execution per job
    assert claims == Counter({j.id: 1 for j in jobs})  # one claim per job
    assert len(pids) == 4  # the work was shared by all four processes


def _tally(url: str) -> tuple[Counter[str], Counter[str], set[str]]:
    """Read the audit straight from the database: runs (logs), claims (events), pids."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            logs = conn.execute(sa.text("SELECT job_id, message FROM job_logs")).all()
            claims = conn.execute(
                sa.text("SELECT job_id FROM job_events WHERE to_status = 'RUNNING'")
            ).all()
    finally:
        engine.dispose()
    runs = Counter(job_id for job_id, _ in logs)
    pids = {message.removeprefix("ran in ") for _, message in logs}
    return runs, Counter(job_id for (job_id,) in claims), pids
