"""Pausing a pool's claims without stopping it (``WorkerPool.pause`` / ``resume``): what
``sysjobs demo`` and the sample runs marked ``workers: false`` rely on.

While paused no job is claimed — a job started meanwhile stays PENDING, even after the
dispatcher woke on its commit and took a turn —; resuming wakes the dispatcher, so the job
is claimed at once (the engine's clock is a ``ManualClock`` that never moves: no safety poll
ever falls due, only a wake-up makes the pool claim). A job running when the pool pauses
finishes, and its slot leases nothing. Nothing here sleeps: each step waits on its event.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType
from sysjobs.worker import WorkerPool
from tests.integration.engine.helpers import ManualClock, open_engine, running_pool
from tests.integration.engine.jobtypes import Empty

WAIT_S = 60.0
#: No safety poll during a test: only a wake-up makes the pool claim.
NEVER_S = 86_400.0


class Turns:
    """Counts the dispatcher's turns (``WorkerPool.dispatch_once``), so a test can wait for
    one that began after something it did — a turn that has seen it."""

    def __init__(self, pool: WorkerPool) -> None:
        self._turn = pool.dispatch_once
        self._cond = threading.Condition()
        self._begun = 0
        self._ended = 0
        pool.dispatch_once = self  # type: ignore[method-assign]

    def __call__(self, hinted: bool) -> list[object]:
        with self._cond:
            self._begun += 1
            mine = self._begun
        try:
            return list(self._turn(hinted))
        finally:
            with self._cond:
                self._ended = mine
                self._cond.notify_all()

    def mark(self) -> int:
        """The turn to wait for: the next one to begin."""
        with self._cond:
            return self._begun + 1

    def wait(self, turn: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self._ended >= turn, WAIT_S), "no turn"


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=30.0, clock=ManualClock())) as engine:
        yield engine


@pytest.fixture
def pool(eng: Engine) -> Iterator[WorkerPool]:
    with running_pool(eng, concurrency=2, safety_poll_s=NEVER_S) as running:
        yield running


@pytest.fixture
def release(eng: Engine) -> Iterator[threading.Event]:
    """Set to let the ``GATED`` jobs end (set on the way out in any case)."""
    gate = threading.Event()

    def gated(ctx: JobContext, data: Empty) -> None:
        ctx.log_info("started")
        assert gate.wait(WAIT_S), "never released"

    eng.register(JobType("GATED", Empty, gated))
    yield gate
    gate.set()


def _started_while_paused_stays_pending(eng: Engine, pool: WorkerPool, turns: Turns) -> str:
    """Start a job while ``pool`` is paused; once the dispatcher took a turn after its
    commit woke it, the job is still PENDING. Its id."""
    turn = turns.mark()
    job = eng.enqueue("NOOP", {})
    turns.wait(turn)
    assert eng.get(job.id).status == "PENDING"
    return job.id


def test_a_job_started_while_the_pool_is_paused_stays_pending_and_runs_once_resumed(
    eng: Engine, pool: WorkerPool
) -> None:
    turns = Turns(pool)
    pool.pause()
    assert pool.paused
    job_id = _started_while_paused_stays_pending(eng, pool, turns)
    pool.resume()
    assert not pool.paused
    assert eng.wait(job_id, ["FINISHED"], WAIT_S).status == "FINISHED"


def test_pausing_twice_and_resuming_twice_is_harmless(eng: Engine, pool: WorkerPool) -> None:
    turns = Turns(pool)
    pool.resume()  # not paused: nothing happens
    pool.pause()
    pool.pause()
    job_id = _started_while_paused_stays_pending(eng, pool, turns)
    pool.resume()
    pool.resume()
    assert eng.wait(job_id, ["FINISHED"], WAIT_S).status == "FINISHED"
    pool.pause()  # and once more: still pauses
    again = _started_while_paused_stays_pending(eng, pool, turns)
    pool.resume()
    assert eng.wait(again, ["FINISHED"], WAIT_S).status == "FINISHED"


def test_a_job_running_when_the_pool_pauses_finishes_and_its_slot_leases_nothing(
    eng: Engine, pool: WorkerPool, release: threading.Event
) -> None:
    turns = Turns(pool)
    running = eng.enqueue("GATED", {})
    eng.wait(running.id, ["RUNNING"], WAIT_S)
    pool.pause()
    waiting = _started_while_paused_stays_pending(eng, pool, turns)
    release.set()
    assert eng.wait(running.id, ["FINISHED"], WAIT_S).status == "FINISHED"
    # Its end was written without leasing the pending job for the slot it freed.
    assert eng.get(waiting).status == "PENDING"
    pool.resume()
    assert eng.wait(waiting, ["FINISHED"], WAIT_S).status == "FINISHED"


def test_a_stopping_paused_pool_stops(eng: Engine) -> None:
    pool = WorkerPool(eng, concurrency=1, safety_poll_s=NEVER_S).start()
    pool.pause()
    job = eng.enqueue("NOOP", {})
    pool.stop(grace_s=1.0)
    assert eng.get(job.id).status == "PENDING"


def test_a_next_claim_specified_before_the_pause_leases_nothing_after_it(
    eng: Engine, release: threading.Event
) -> None:
    """The slot a finishing job frees specifies its next claim, then the pool pauses, then
    the end is written: the end alone (the claim in flight is dropped, not run)."""
    with running_pool(eng, concurrency=1, safety_poll_s=NEVER_S) as pool:
        specify = pool._next_claim
        specified: list[object] = []

        def specify_then_pause(leaving: Any) -> Any:
            spec = specify(leaving)
            specified.append(spec)
            pool.pause()
            return spec

        pool._next_claim = specify_then_pause  # type: ignore[method-assign]
        running = eng.enqueue("GATED", {})
        eng.wait(running.id, ["RUNNING"], WAIT_S)
        waiting = eng.enqueue("NOOP", {})  # the one slot is busy: it waits
        release.set()
        assert eng.wait(running.id, ["FINISHED"], WAIT_S).status == "FINISHED"
        assert specified and specified[0] is not None  # a claim was on its way with the end
        assert eng.get(waiting.id).status == "PENDING"
        pool._next_claim = specify  # type: ignore[method-assign]
        pool.resume()
        assert eng.wait(waiting.id, ["FINISHED"], WAIT_S).status == "FINISHED"
