"""Jobs run by an in-process pool: results, failures, stop/resume, cancel, forced stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from sysjobs.jobs import Engine, JobStatus
from tests.integration.engine.helpers import FAST, Beats, ManualClock, open_engine, running_pool

S = JobStatus


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url) as engine:
        yield engine


def _messages(engine: Engine, job_id: str) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, {})]


def test_a_pool_runs_a_job_to_finished_with_its_results_and_logs(eng: Engine) -> None:
    job = eng.enqueue("ECHO", {"text": "hello"})
    with running_pool(eng):
        done = eng.wait(job.id, ["FINISHED"], 10)
    assert done.results == {"echo": "hello"} and done.progress == 100 and not done.has_errors
    assert _messages(eng, job.id) == ["hello"]
    assert done.waiting_ms() >= 0 and done.duration_ms() >= 0


def test_a_failing_handler_finishes_the_job_with_errors_and_the_reason(eng: Engine) -> None:
    job = eng.enqueue("FAIL", {"text": "boom"})
    with running_pool(eng):
        done = eng.wait(job.id, ["FINISHED"], 10)
    assert done.has_errors
    assert _messages(eng, job.id) == ["Job failed: RuntimeError: boom"]


def test_stop_then_resume_continues_from_the_checkpoint(db_url: str) -> None:
    """The engine's clock stands still: the 1 s lease never runs out under the test. With
    time moving, a heartbeat held off past the lease on a loaded machine let another slot
    take the job, and fencing then refused the first attempt's last line (as it must)."""
    clock = ManualClock(start_ms=time.time_ns() // 1_000_000)
    with open_engine(db_url, replace(FAST, clock=clock)) as eng:
        _stop_then_resume(eng)


def _stop_then_resume(eng: Engine) -> None:
    job = eng.enqueue("STEPPER", {"steps": 40, "step_s": 0.02})
    with running_pool(eng) as pool:
        eng.wait(job.id, ["RUNNING"], 10)
        beats = Beats(pool)  # the heartbeat writes the progress: read it after each one
        seen = beats.count
        while eng.require(job.id).progress < 10:
            assert beats.wait_past(seen, 10)
            seen = beats.count
        eng.stop(job.id)
        stopped = eng.wait(job.id, ["STOPPED"], 60)
        assert 0 < stopped.progress < 100 and stopped.ended_at is not None
        eng.resume(job.id)
        done = eng.wait(job.id, ["FINISHED"], 60)  # (a limit only bounds a failure)
    steps = [m for m in _messages(eng, job.id) if m.startswith("step ")]
    assert steps == [f"step {n}" for n in range(1, 41)]  # every unit once, none repeated
    assert done.results == {"done": 40}


def test_cancel_of_a_running_job_ends_canceled_at_the_next_safe_point(eng: Engine) -> None:
    job = eng.enqueue("STEPPER", {"steps": 500, "step_s": 0.01})
    with running_pool(eng):
        eng.wait(job.id, ["RUNNING"], 10)
        assert eng.cancel(job.id).status is S.CANCELING
        canceled = eng.wait(job.id, ["CANCELED", "FINISHED"], 10)
    assert canceled.status is S.CANCELED and canceled.ended_at is not None


def test_a_job_that_ignores_stop_is_forced_after_the_grace_period(db_url: str) -> None:
    """The grace is the engine clock's: the test moves that clock past it and runs the
    heartbeat that forces overdue jobs, rather than sleeping through the grace and waiting
    for the heartbeat's next tick."""
    clock = ManualClock(start_ms=time.time_ns() // 1_000_000)
    with open_engine(db_url, replace(FAST, clock=clock)) as eng:
        job = eng.enqueue("STUBBORN", {"seconds": 30})
        with running_pool(eng) as pool:
            eng.wait(job.id, ["RUNNING"], 10)
            eng.stop(job.id)
            clock.advance(int(FAST.stop_grace_s * 1000))
            pool.beat()
            stopped = eng.wait(job.id, ["STOPPED"], 10)
        assert stopped.status is S.STOPPED
        assert any(m.startswith("Forced: the job did not stop") for m in _messages(eng, job.id))


def test_force_stop_ends_a_running_job_without_waiting_for_the_grace(eng: Engine) -> None:
    job = eng.enqueue("STUBBORN", {"seconds": 30})
    with running_pool(eng):
        eng.wait(job.id, ["RUNNING"], 10)
        eng.force_stop(job.id)
        assert eng.wait(job.id, ["STOPPED"], 5).status is S.STOPPED


def test_cancel_racing_completion_ends_each_job_finished_or_canceled(eng: Engine) -> None:
    jobs = eng.enqueue_many("NOOP", [{} for _ in range(40)])
    with running_pool(eng, concurrency=4):
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(eng.cancel(job.id).status)
            except Exception as exc:  # FINISHED first: the cancel is refused, FINISHED wins
                assert "its status is FINISHED" in str(exc)
                outcomes.append(S.FINISHED)
        ended = [eng.wait(j.id, ["FINISHED", "CANCELED"], 10) for j in jobs]
    for job, end in zip(jobs, ended, strict=True):
        trail = [e.to_status for e in eng.events(job.id)]
        assert end.status in (S.FINISHED, S.CANCELED)
        assert trail[-1] is end.status and trail.count(S.FINISHED) + trail.count(S.CANCELED) == 1


def test_shutdown_puts_a_running_job_back_to_pending_at_a_safe_point(eng: Engine) -> None:
    job = eng.enqueue("STEPPER", {"steps": 500, "step_s": 0.01})
    with running_pool(eng):
        eng.wait(job.id, ["RUNNING"], 10)
    back = eng.require(job.id)
    assert back.status is S.PENDING and back.ended_at is None
    with running_pool(eng):
        eng.wait(job.id, ["RUNNING"], 10)
        eng.cancel(job.id)
        eng.wait(job.id, ["CANCELED"], 10)


def test_jobs_started_by_a_running_job_run_too(eng: Engine) -> None:
    parent = eng.enqueue("NOOP", {})
    child = eng.enqueue("ECHO", {"text": "child"}, parent_id=parent.id)
    with running_pool(eng):
        assert eng.wait(child.id, ["FINISHED"], 10).root_id == parent.id


def test_a_busy_slot_pays_one_write_transaction_per_job(eng: Engine) -> None:
    """The finishing transaction leases the slot's next job: no claim of its own."""
    jobs = eng.enqueue_many("NOOP", [{} for _ in range(40)])
    commits: list[str] = []

    def count(connection: object) -> None:
        commits.append(threading.current_thread().name)

    sa.event.listen(eng.database.engine, "commit", count)
    try:
        with running_pool(eng, concurrency=1):
            for job in jobs:
                eng.wait(job.id, ["FINISHED"], 20)
    finally:
        sa.event.remove(eng.database.engine, "commit", count)
    # 40 finishes, the first claim, and a few reaps and empty claims; two transactions per
    # job would be 80 or more. The heartbeat thread's commits are not counted: it beats
    # once a second, so their number follows the machine's speed, not the jobs.
    per_job = [name for name in commits if name != "sysjobs-beat"]
    assert len(per_job) < 40 + 15, per_job
