"""A job's times always read in order, whatever the clock does between its writes.

created ≤ started ≤ ended, each event no earlier than the one before it, and so
``find({createTo: started})`` always finds the job. Each write takes its time inside its
write transaction and never before the job's earlier times: these tests step the injected
clock backwards and forwards between enqueue, claim, end, cancel, resume and recovery, and
run a worker pool against enqueues under a clock that jitters on every reading.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Claimed, Engine, EngineSettings, FinishRequest, Outcome, new_owner
from tests.integration.engine.helpers import JitteryClock, ManualClock, open_engine, running_pool

#: Long leases: the manual clock jumps by seconds, and no lease should expire by it.
LEASE_S = 300.0


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
    settings = EngineSettings(lease_s=LEASE_S, stop_grace_s=0.5, clock=clock)
    with open_engine(db_url, settings) as engine:
        yield engine


def _out_of_order(eng: Engine, job_ids: list[str]) -> list[str]:
    """What is wrong with the jobs' times (empty when all are in order)."""
    wrong = []
    for job_id in job_ids:
        row = eng.store.get_job(job_id, apps=eng.apps)
        assert row is not None
        created, started, ended = row["created_ms"], row["started_ms"], row["ended_ms"]
        if started is not None and started < created:
            wrong.append(f"{job_id}: started {started} < created {created}")
        if ended is not None and ended < max(created, started or created):
            wrong.append(f"{job_id}: ended {ended} < created/started {created}/{started}")
        times = [e["at_ms"] for e in eng.store.events(job_id, apps=eng.apps)]
        if times[0] != created or times != sorted(times):
            wrong.append(f"{job_id}: events {times}, created {created}")
    return wrong


def _missed_by_create_to_started(eng: Engine, job_ids: list[str]) -> list[str]:
    """Jobs ``find({createTo: <its start>})`` does not return."""
    missed = []
    for job_id in job_ids:
        started = eng.store.get_job(job_id, apps=eng.apps)["started_ms"]  # type: ignore[index]
        if started is not None and job_id not in {j.id for j in eng.find({"createTo": started})}:
            missed.append(job_id)
    return missed


def test_jobs_claimed_after_the_clock_stepped_back_start_no_earlier_than_created(
    eng: Engine, clock: ManualClock
) -> None:
    jobs = []
    for _ in range(40):  # enqueued 30 ms apart
        jobs.append(eng.enqueue("NOOP", {}).id)
        clock.advance(30)
    clock.advance(-5_000)
    owner, claimed = new_owner(), []
    while batch := eng.leases.claim(owner, limit=3):
        claimed += batch
        clock.advance(7 if len(claimed) % 2 else -11)
    assert len(claimed) == 40
    clock.advance(-5_000)
    for claim in claimed:
        assert eng.leases.finish(claim.lease, Outcome.COMPLETED) is not None
        clock.advance(-3)
    assert {eng.require(j).status for j in jobs} == {"FINISHED"}
    assert _out_of_order(eng, jobs) == []
    assert _missed_by_create_to_started(eng, jobs) == []


def test_a_released_job_claimed_again_with_the_clock_behind_keeps_its_times_in_order(
    eng: Engine, clock: ManualClock
) -> None:
    jobs = [eng.enqueue("NOOP", {}).id for _ in range(10)]
    owner = new_owner()
    first = eng.leases.claim(owner, limit=10)
    clock.advance(2_000)
    for claim in first:  # a worker shutting down puts them back
        eng.leases.finish(claim.lease, Outcome.RELEASED)
    clock.advance(-10_000)
    again = eng.leases.claim(owner, limit=10)
    assert [c.lease.attempt for c in again] == [2] * 10
    clock.advance(-1_000)
    ended = eng.leases.finish_many([_completed(c) for c in again])  # one group commit
    assert all(job is not None and job.status == "FINISHED" for job, _ in ended)
    assert _out_of_order(eng, jobs) == []
    assert _missed_by_create_to_started(eng, jobs) == []


def _completed(claim: Claimed) -> FinishRequest:
    return FinishRequest(claim.lease, Outcome.COMPLETED)


def test_stop_resume_cancel_and_recovery_with_the_clock_stepping_back_keep_times_in_order(
    eng: Engine, clock: ManualClock
) -> None:
    stopped, lost, canceled = (eng.enqueue("NOOP", {}).id for _ in range(3))
    owner = new_owner()
    claims = {c.job.id: c for c in eng.leases.claim(owner, limit=2)}  # the two oldest
    clock.advance(-2_000)
    eng.stop(stopped)  # a stop request after the clock stepped back
    clock.advance(-2_000)
    eng.leases.finish(claims[stopped].lease, Outcome.STOPPED)
    clock.advance(-2_000)
    eng.resume(stopped)
    clock.advance(-2_000)
    (again,) = eng.leases.claim(owner, limit=1)
    assert again.job.id == stopped
    clock.advance(-2_000)
    eng.leases.finish(again.lease, Outcome.COMPLETED)
    clock.advance(-2_000)
    eng.cancel(canceled)  # still pending: canceled at once
    clock.advance(-2_000)
    assert eng.leases.release_owner(owner, "its process was killed") == 1  # `lost`'s lease
    assert eng.require(stopped).status == "FINISHED"
    assert eng.require(lost).status == "FINISHED"  # not idempotent: ended, with the reason
    assert eng.require(canceled).status == "CANCELED"
    jobs = [stopped, lost, canceled]
    assert _out_of_order(eng, jobs) == []
    assert _missed_by_create_to_started(eng, jobs) == []


def test_jobs_enqueued_while_a_worker_pool_claims_under_a_jittery_clock_keep_times_in_order(
    db_url: str,
) -> None:
    """60 jobs: each reading of the clock takes the next of its ten offsets, so enqueues,
    claims and ends interleaved over 60 jobs meet every pair of offsets, a reading 180 ms
    behind the one before included, several times over (the checks below read every page
    of ``find`` for each job: their cost grows with the square of the count)."""
    settings = EngineSettings(lease_s=30.0, stop_grace_s=0.5, clock=JitteryClock())
    with open_engine(db_url, settings) as eng, running_pool(eng, concurrency=4):
        jobs = [eng.enqueue("NOOP", {}).id for _ in range(60)]
        ended = eng.wait_all(jobs, ["FINISHED"], 60)
        assert [j.status for j in ended] == ["FINISHED"] * len(jobs)
        assert _out_of_order(eng, jobs) == []
        assert _missed_by_create_to_started(eng, jobs) == []
