"""The workers registry: a pool registers when it starts, its heartbeat refreshes its row
(with the jobs it runs), a clean stop removes it, and a pool that stopped beating shows as
gone after a few lease periods and is pruned later. Time is the injected clock: the tests
step it, and wait for the pool's heartbeat thread to write what the new time says."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pydantic import BaseModel

from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType, new_owner
from sysjobs.jobs.models import to_ms
from sysjobs.jobs.workers import (
    GONE_AFTER_LEASES,
    PRUNED_AFTER_LEASES,
    Registration,
    WorkerInfo,
    list_workers,
    mark_gone,
)
from sysjobs.store.workers import WorkerStore
from sysjobs.worker import WorkerPool
from sysjobs.worker.served import ServedApp
from tests.integration.engine.helpers import Beats, ManualClock, open_engine, running_pool

LEASE_S = 1.0
LEASE_MS = int(LEASE_S * 1000)
#: How long a test waits for a heartbeat thread to catch up with the stepped clock (the
#: thread ticks every third of a lease; this only bounds a failure).
PATIENCE_S = 20.0


class Empty(BaseModel):
    pass


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
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def eng(db_url: str, clock: ManualClock, gate: threading.Event) -> Iterator[Engine]:
    settings = EngineSettings(lease_s=LEASE_S, stop_grace_s=0.5, clock=clock)
    with open_engine(db_url, settings) as engine:

        def held(ctx: JobContext, _data: Empty) -> None:
            while not gate.wait(0.01) and not ctx.should_stop():
                pass

        engine.register(JobType("HELD", Empty, held))
        yield engine


def _eventually(pool: WorkerPool, read: Callable[[], list[WorkerInfo]],
                ok: Callable[[list[WorkerInfo]], bool]) -> list[WorkerInfo]:  # fmt: skip
    """Read until ``ok`` holds (the heartbeat thread's write), reading again after each
    heartbeat of ``pool``; fail after PATIENCE_S."""
    beats = Beats(pool)
    deadline = time.monotonic() + PATIENCE_S
    while True:
        seen = beats.count
        found = read()
        if ok(found):
            return found
        assert beats.wait_past(seen, deadline - time.monotonic()), found


def test_a_started_pool_appears_with_its_host_pid_slots_queues_and_apps(
    eng: Engine, clock: ManualClock
) -> None:
    with running_pool(eng, concurrency=3, queues={"mix": 3, "heavy": 1}) as pool:
        [worker] = list_workers(eng)
    assert worker.id == pool.owner and worker.state == "alive"
    assert (worker.host, worker.pid) == (socket.gethostname(), os.getpid())
    assert worker.slots == 3 and worker.queues == {"mix": 3, "heavy": 1}
    assert worker.apps == [eng.app] and worker.busy == 0 and worker.job_ids == []
    assert to_ms(worker.started_at) == clock.now_ms() == to_ms(worker.last_seen_at)
    assert worker.lease_s == LEASE_S


def test_its_heartbeat_refreshes_last_seen_on_the_engine_clock(
    eng: Engine, clock: ManualClock
) -> None:
    started = clock.now_ms()
    with running_pool(eng) as pool:
        clock.advance(LEASE_MS)
        [worker] = _eventually(
            pool, lambda: list_workers(eng), lambda ws: to_ms(ws[0].last_seen_at) == started + LEASE_MS
        )
    assert to_ms(worker.started_at) == started and worker.state == "alive"
    assert worker.last_seen_ago_ms == 0


def test_a_busy_pool_shows_its_current_jobs(
    eng: Engine, clock: ManualClock, gate: threading.Event
) -> None:
    jobs = [eng.enqueue("HELD", {}) for _ in range(2)]
    with running_pool(eng, concurrency=4) as pool:
        for job in jobs:
            eng.wait(job.id, ["RUNNING"], 10)
        [busy] = _eventually(pool, lambda: list_workers(eng), lambda ws: ws[0].busy == 2)
        gate.set()
        for job in jobs:
            eng.wait(job.id, ["FINISHED"], 10)
        clock.advance(LEASE_MS)
        [idle] = _eventually(pool, lambda: list_workers(eng), lambda ws: ws[0].busy == 0)
    assert busy.job_ids == sorted(j.id for j in jobs)
    assert idle.job_ids == []


def test_a_clean_stop_removes_the_pool_from_the_registry(eng: Engine) -> None:
    with running_pool(eng) as pool:
        assert len(list_workers(eng)) == 1
    assert list_workers(eng) == []
    pool.beat()  # a heartbeat arriving late does not write the row back
    assert list_workers(eng) == []


def test_several_pools_are_listed_each_with_its_own_row(eng: Engine) -> None:
    with running_pool(eng, concurrency=2) as one, running_pool(eng, concurrency=5) as two:
        listed = {w.id: w.slots for w in list_workers(eng)}
    assert listed == {one.owner: 2, two.owner: 5}


def test_workers_of_another_app_are_listed_only_when_every_app_is_asked_for(
    eng: Engine,
) -> None:
    served = {key: ServedApp(eng.for_app(key)) for key in ("billing", "crm")}
    with running_pool(eng, apps=served) as other, running_pool(eng) as mine:
        assert [w.id for w in list_workers(eng, eng.app)] == [mine.owner]
        assert [w.id for w in list_workers(eng, "billing")] == [other.owner]
        assert {w.id for w in list_workers(eng)} == {mine.owner, other.owner}


def _dead_worker(eng: Engine) -> Registration:
    """A registry row whose pool never beats again (its process was killed)."""
    registration = Registration(eng, new_owner(), slots=2, queues={"mix": 2}, apps=[eng.app],
                                lease_s=LEASE_S)  # fmt: skip
    registration.register()
    return registration


def test_a_worker_that_stopped_beating_shows_gone_after_n_lease_periods(
    eng: Engine, clock: ManualClock
) -> None:
    _dead_worker(eng)
    clock.advance(GONE_AFTER_LEASES * LEASE_MS)
    [still] = list_workers(eng)
    clock.advance(1)
    [gone] = list_workers(eng)
    assert still.state == "alive" and gone.state == "gone"
    assert gone.last_seen_ago_ms == GONE_AFTER_LEASES * LEASE_MS + 1


def test_a_worker_its_supervisor_marked_gone_is_gone_at_once_and_pruned_on_time(
    eng: Engine, clock: ManualClock
) -> None:
    dead = _dead_worker(eng)
    assert mark_gone(eng, dead.beat.id) is True
    [gone] = list_workers(eng)
    assert (gone.state, gone.busy, gone.job_ids, gone.last_seen_ago_ms) == ("gone", 0, [], 0)
    clock.advance(PRUNED_AFTER_LEASES * LEASE_MS)
    assert eng.prune().workers == 0
    clock.advance(1)
    assert eng.prune().workers == 1


def test_marking_a_worker_without_a_row_gone_changes_nothing(eng: Engine) -> None:
    with running_pool(eng, concurrency=1) as pool:
        assert mark_gone(eng, new_owner()) is False
        [alive] = list_workers(eng)
    assert alive.id == pool.owner and alive.state == "alive"
    assert mark_gone(eng, pool.owner) is False  # a clean stop removed its row


def test_retention_prunes_a_gone_worker_after_its_pruning_age_only(
    eng: Engine, clock: ManualClock
) -> None:
    _dead_worker(eng)
    clock.advance(PRUNED_AFTER_LEASES * LEASE_MS)
    assert eng.prune().workers == 0 and len(list_workers(eng)) == 1
    clock.advance(1)
    assert eng.prune().workers == 1
    assert list_workers(eng) == []


def test_a_live_pool_heartbeat_prunes_the_rows_of_long_gone_workers(
    eng: Engine, clock: ManualClock
) -> None:
    dead = _dead_worker(eng)
    clock.advance(PRUNED_AFTER_LEASES * LEASE_MS + 1)
    with running_pool(eng) as pool:
        listed = _eventually(pool, lambda: list_workers(eng), lambda ws: len(ws) == 1)
    assert [w.id for w in listed] == [pool.owner] != [dead.beat.id]


def test_a_row_pruned_while_its_pool_was_away_comes_back_at_its_next_heartbeat(
    eng: Engine, clock: ManualClock
) -> None:
    with running_pool(eng) as pool:
        started = list_workers(eng)[0].started_at
        WorkerStore(eng.database, clock.now_ms).remove(pool.owner)  # (as a prune would)
        clock.advance(LEASE_MS)
        [back] = _eventually(pool, lambda: list_workers(eng), lambda ws: len(ws) == 1)
    assert back.id == pool.owner and back.started_at == started
