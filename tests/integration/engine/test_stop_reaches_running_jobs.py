"""A stop, cancel or kill reaches a job its pool runs at once, not at the pool's next heartbeat.

The pools here beat once an hour (``beat_s``): only the ``stop:<id>`` hint the request
commits can bring their heartbeat forward in time for a test to see the job end. Without it
each test would hang until its 60 s wait gave up — no threshold a loaded machine could cross.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineSettings, JobStatus
from sysjobs.worker.pool import WorkerPool
from tests.integration.engine.helpers import Beats, open_engine, running_pool

S = JobStatus
#: The pools' lease: long enough for a heartbeat an hour apart.
LEASE_S = 7200.0
HOUR_S = 3600.0
#: A job that runs until its pool signals it: it never reads its own status (as a step of
#: ``STEPPER`` does), so only a heartbeat relays a request to it.
FOREVER = "UNTIL_SIGNALLED"


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=LEASE_S, stop_grace_s=HOUR_S)) as engine:
        yield engine


@pytest.fixture
def pool(eng: Engine) -> Iterator[WorkerPool]:
    with running_pool(eng, concurrency=4, beat_s=HOUR_S) as started:
        yield started


def test_a_stop_reaches_a_running_job_without_waiting_for_the_heartbeat(
    eng: Engine, pool: WorkerPool
) -> None:
    job = eng.enqueue(FOREVER, {})
    eng.wait(job.id, ["RUNNING"], 60)
    assert eng.stop(job.id).status is S.STOPPING
    assert eng.wait(job.id, ["STOPPED"], 60).status is S.STOPPED
    assert pool.beats.early_beats >= 1


def test_a_cancel_reaches_a_running_job_without_waiting_for_the_heartbeat(
    eng: Engine, pool: WorkerPool
) -> None:
    job = eng.enqueue(FOREVER, {})
    eng.wait(job.id, ["RUNNING"], 60)
    eng.cancel(job.id)
    assert eng.wait(job.id, ["CANCELED"], 60).status is S.CANCELED


def test_a_kill_ends_a_running_job_at_once_and_its_neighbours_run_on(
    eng: Engine, pool: WorkerPool
) -> None:
    """A kill forces the end at the beat it brings forward (its grace is none), whatever the
    job's own stop checks; the pool's other job keeps running."""
    killed, neighbour = (eng.enqueue(FOREVER, {}) for _ in range(2))
    eng.wait(killed.id, ["RUNNING"], 60)
    eng.wait(neighbour.id, ["RUNNING"], 60)
    eng.kill(killed.id)
    assert eng.wait(killed.id, ["CANCELED"], 60).status is S.CANCELED
    assert eng.require(neighbour.id).status is S.RUNNING


def test_stopping_a_parent_reaches_its_running_children(eng: Engine, pool: WorkerPool) -> None:
    parent = eng.enqueue(FOREVER, {})
    eng.wait(parent.id, ["RUNNING"], 60)
    children = [eng.enqueue(FOREVER, {}, parent_id=parent.id) for _ in range(2)]
    for child in children:
        eng.wait(child.id, ["RUNNING"], 60)
    eng.stop(parent.id)
    for job in (parent, *children):
        assert eng.wait(job.id, ["STOPPED"], 60).status is S.STOPPED


def test_a_stop_made_by_another_process_reaches_the_job_through_the_databases_wake_ups(
    db_url: str, eng: Engine, pool: WorkerPool
) -> None:
    """Another engine on the database stands for another process. PostgreSQL's LISTEN
    carries the stop's own hint; SQLite's write-ahead-log watch says only that something
    changed, and the pool reads its jobs' statuses before it beats."""
    job = eng.enqueue(FOREVER, {})
    eng.wait(job.id, ["RUNNING"], 60)
    with open_engine(db_url, EngineSettings(lease_s=LEASE_S)) as elsewhere:
        elsewhere.stop(job.id)
    assert eng.wait(job.id, ["STOPPED"], 60).status is S.STOPPED


def test_a_hint_that_names_nothing_makes_the_pool_read_but_not_write(
    eng: Engine, pool: WorkerPool
) -> None:
    """SQLite's WAL watch hints ``*`` for every commit of the fleet: with no job asked to
    end, the pool's check reads and no beat (a write) follows — its commits do not answer
    every commit of the others."""
    held, plain_adopted = threading.Event(), pool.beats.adopted

    def adopted(job_id: str) -> None:
        plain_adopted(job_id)
        held.set()

    pool.beats.adopted = adopted  # type: ignore[method-assign]
    job = eng.enqueue(FOREVER, {})
    assert held.wait(60)  # the pool holds it (its claim said RUNNING a moment before)
    beats, checked, answers = Beats(pool), threading.Event(), list[bool]()
    plain = pool._asked_to_end

    def check() -> bool:
        answers.append(plain())
        checked.set()
        return answers[-1]

    pool._asked_to_end = check  # type: ignore[method-assign]
    eng.hub.notify(["*"])
    assert checked.wait(60)
    assert answers == [False] and beats.count == 0
    eng.stop(job.id)
    assert eng.wait(job.id, ["STOPPED"], 60).status is S.STOPPED
