"""Low priority and queues: normal jobs first, ageing against starvation, queue limits.

The engine reads a clock the test steps (``ManualClock``): a low-priority job ages only
when the test moves time past the threshold, never because a loaded machine was slow."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineHooks, EngineSettings, Job, JobStatus, new_owner
from tests.integration.engine.helpers import ManualClock, open_engine, running_pool

#: A low-priority job older than this competes as a normal one.
AGEING_S = 0.5


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    settings = EngineSettings(lease_s=5.0, low_priority_ageing_s=AGEING_S, clock=clock)
    with open_engine(db_url, settings) as engine:
        yield engine


def _claim_order(engine: Engine, n: int) -> list[str]:
    owner = new_owner()
    return [c.job.id for _ in range(n) for c in engine.leases.claim(owner, limit=1)]


def test_a_low_priority_job_is_claimed_only_when_no_normal_job_waits(eng: Engine) -> None:
    low = eng.enqueue("NOOP", {}, low_priority=True)
    normal = [eng.enqueue("NOOP", {}).id for _ in range(3)]
    assert _claim_order(eng, 4) == [*normal, low.id]


def test_set_and_remove_low_priority_change_the_claim_order(eng: Engine) -> None:
    first, second = eng.enqueue("NOOP", {}), eng.enqueue("NOOP", {})
    eng.set_low_priority(first.id, True)
    third = eng.enqueue("NOOP", {}, low_priority=True)
    eng.set_low_priority(third.id, False)
    assert _claim_order(eng, 3) == [second.id, third.id, first.id]


def test_an_aged_low_priority_job_competes_as_a_normal_one(eng: Engine, clock: ManualClock) -> None:
    low = eng.enqueue("NOOP", {}, low_priority=True)
    clock.advance(int(AGEING_S * 1000) + 100)  # older than the ageing threshold
    normal = eng.enqueue("NOOP", {})
    assert _claim_order(eng, 2) == [low.id, normal.id]


def test_low_priority_never_takes_the_last_free_slot(eng: Engine) -> None:
    eng.enqueue("NOOP", {}, low_priority=True)
    assert eng.leases.claim(new_owner(), limit=1, allow_low=False) == []


def test_a_low_priority_job_does_not_starve_under_constant_load(
    eng: Engine, clock: ManualClock
) -> None:
    stop, fed = threading.Event(), threading.Event()

    def feed() -> None:  # keeps normal work waiting all the time
        while not stop.is_set():
            eng.enqueue_many("STEPPER", [{"steps": 1, "step_s": 0.01}] * 4)
            fed.set()
            time.sleep(0.02)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        fed.wait(10)  # normal work waits before the low-priority job is enqueued
        low = eng.enqueue("NOOP", {}, low_priority=True)
        with running_pool(eng, concurrency=2):
            # The pool serves the normal jobs the feeder keeps adding; time passes, the
            # low-priority job ages past the threshold and gets its turn.
            clock.advance(int(AGEING_S * 1000) + 100)
            done = eng.wait(low.id, ["FINISHED"], 15)
            still_waiting = eng.find({"status": "PENDING"}).count()
    finally:
        stop.set()
        feeder.join()
    assert done.status is JobStatus.FINISHED
    assert still_waiting > 0  # normal jobs were waiting when the low-priority one ran


class Concurrency(EngineHooks):
    """Counts the jobs a pool runs at once, from its own hooks: ``job_started`` fires before
    a job runs and ``job_ended`` after, before its slot is counted free again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 0
        self.peak = 0

    def job_started(self, job: Job, owner: str) -> None:
        with self._lock:
            self._now += 1
            self.peak = max(self.peak, self._now)

    def job_ended(self, job: Job | None, job_id: str, owner: str) -> None:
        with self._lock:
            self._now -= 1


def test_a_queue_limit_caps_how_many_of_its_jobs_a_pool_runs_at_once(eng: Engine) -> None:
    """Every start and end is counted (hooks), not sampled: the jobs need to last only long
    enough for a second one to start beside them if the limit let it (the four are claimable
    at once and the pool has four slots)."""
    counted = Concurrency()
    eng.hooks.append(counted)
    jobs = eng.enqueue_many("STUBBORN", [{"seconds": 0.05}] * 4, queue="heavy")
    with running_pool(eng, concurrency=4, queues={"heavy": 1, "mix": 4}):
        ended = [eng.wait(j.id, ["FINISHED"], 10).status for j in jobs]
    assert counted.peak == 1
    assert ended == [JobStatus.FINISHED] * 4
    assert all(eng.require(j.id).status is JobStatus.FINISHED for j in jobs)
