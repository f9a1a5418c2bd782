"""Idle workers cost nothing: a pool claims on wake-ups (this process's commits, PostgreSQL
LISTEN, SQLite's write-ahead-log watch) and otherwise only when its slow safety poll is due
by the engine's clock — never in a busy loop.

Claims are counted at the backend (every claim statement passes there); time is a
``ManualClock`` the tests step, so nothing here sleeps or depends on the machine's speed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.store.backend import ClaimSpec, JobBackend
from sysjobs.worker import WorkerPool
from tests.integration.engine.helpers import ManualClock, open_engine, running_pool
from tests.integration.engine.jobtypes import register

SAFETY_POLL_S = 5.0


class CountingClaims:
    """The engine's backend, counting the claims that reach it."""

    def __init__(self, backend: JobBackend) -> None:
        self._backend = backend
        self.claims = 0
        self.first = threading.Event()

    def claim(self, spec: ClaimSpec) -> list[dict[str, Any]]:
        self.claims += 1
        self.first.set()
        return self._backend.claim(spec)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


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
    with open_engine(db_url, EngineSettings(lease_s=30.0, clock=clock)) as engine:
        yield engine


def _counted(engine: Engine) -> CountingClaims:
    counting = CountingClaims(engine.backend)
    engine.leases.store = counting  # type: ignore[assignment]
    return counting


def test_an_idle_pool_claims_once_per_safety_poll_over_many_wakeless_intervals(
    eng: Engine, clock: ManualClock
) -> None:
    counting = _counted(eng)
    pool = WorkerPool(eng, concurrency=2, safety_poll_s=SAFETY_POLL_S)
    with eng.hub.watch(["work"]):  # listening to other processes, as a running pool is
        assert eng.database.hears_others
        assert pool.dispatch_once(hinted=False) == []  # the first claim always runs
        per_turn = counting.claims  # (one claim per queue group with free slots)
        for _ in range(200):  # 100 s of 0.5 s wake-less intervals: 20 safety polls
            clock.advance(500)
            assert pool.dispatch_once(hinted=False) == []
    assert per_turn >= 1 and counting.claims == per_turn * (1 + 20)


def test_an_idle_pool_whose_clock_stands_still_never_claims_without_a_wakeup(
    eng: Engine,
) -> None:
    counting = _counted(eng)
    pool = WorkerPool(eng, concurrency=2, safety_poll_s=SAFETY_POLL_S)
    with eng.hub.watch(["work"]):
        pool.dispatch_once(hinted=False)
        per_turn = counting.claims
        for _ in range(1000):
            pool.dispatch_once(hinted=False)
    assert per_turn >= 1 and counting.claims == per_turn


def test_a_wakeup_claims_at_once_whatever_the_safety_poll_says(eng: Engine) -> None:
    counting = _counted(eng)
    pool = WorkerPool(eng, concurrency=2, safety_poll_s=SAFETY_POLL_S)
    with eng.hub.watch(["work"]):
        pool.dispatch_once(hinted=False)
        before = counting.claims
        job = eng.enqueue("NOOP", {})
        [claimed] = pool.dispatch_once(hinted=True)
    assert claimed.job.id == job.id and counting.claims > before


def test_a_full_pool_issues_no_claim_however_often_it_is_woken(eng: Engine) -> None:
    counting = _counted(eng)
    pool = WorkerPool(eng, concurrency=1, safety_poll_s=SAFETY_POLL_S)
    eng.enqueue("NOOP", {})
    with eng.hub.watch(["work"]):
        [claimed] = pool.dispatch_once(hinted=True)
        pool._adopt(claimed)  # the slot is busy (its thread is not started here)
        before = counting.claims
        for _ in range(100):
            assert pool.dispatch_once(hinted=True) == []
    assert counting.claims == before


def test_a_job_enqueued_through_another_connection_is_claimed_on_its_notification(
    db_url: str, eng: Engine
) -> None:
    counting = _counted(eng)
    # The clock stands still and the safety poll is an hour: only the notification of the
    # other engine's commit (LISTEN/NOTIFY, the WAL watch) can get the job claimed.
    with running_pool(eng, concurrency=2, safety_poll_s=3600.0):
        assert counting.first.wait(60)  # the pool's first claim ran (and found nothing)
        with Engine.open(db_url) as other:
            register(other)
            job = other.enqueue("NOOP", {})
        started = eng.wait(job.id, ["RUNNING", "FINISHED"], 60)
    assert started.started_at is not None
