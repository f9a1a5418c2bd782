"""Leases: expiry, the reaper's reasons, capped retries, and fencing of late writes.

The engine reads a clock the test steps (``ManualClock``): a lease expires when the test
moves time past it — never because a loaded machine stalled a heartbeat."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from sysjobs.errors import SysError
from sysjobs.jobs import (
    Engine,
    EngineSettings,
    FinishRequest,
    JobContext,
    JobStatus,
    Lease,
    LeaseLost,
    Outcome,
    new_owner,
)
from tests.integration.engine.helpers import ManualClock, open_engine

S = JobStatus
#: Past the 0.2 s lease of these tests.
PAST_LEASE_MS = 300



@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=0.2, stop_grace_s=0.2, clock=clock)) as engine:
        yield engine


def _claim_and_pause(engine: Engine) -> JobContext:
    """A worker that claims one job and then stops heartbeating (a paused process) while
    time moves past its lease."""
    (claimed,) = engine.leases.claim(new_owner(), limit=1)
    clock = engine.settings.clock
    assert isinstance(clock, ManualClock)
    clock.advance(PAST_LEASE_MS)
    return JobContext(engine, claimed.lease, claimed.job)


def _messages(engine: Engine, job_id: str) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, {})]


def test_a_lost_job_ends_finished_with_the_reason_in_its_log(eng: Engine) -> None:
    job = eng.enqueue("RECORD_RUN", {})
    _claim_and_pause(eng)
    assert eng.reap() == 1
    lost = eng.require(job.id)
    assert lost.status is S.FINISHED and lost.has_errors and lost.ended_at is not None
    (message,) = _messages(eng, job.id)
    assert message.startswith("Job lost: worker w") and "stopped renewing its lease" in message
    assert "not retried because its type is not idempotent" in message


def test_a_paused_workers_late_writes_are_refused(eng: Engine) -> None:
    job = eng.enqueue("RECORD_RUN", {})
    ctx = _claim_and_pause(eng)
    eng.reap()
    before = eng.require(job.id)
    for write in (
        lambda: ctx.log_info("late"), lambda: ctx.log_error("late"),
        lambda: ctx.set_progress(50), lambda: ctx.set_results({"late": True}),
        lambda: ctx.save_checkpoint({"late": True}),
    ):  # fmt: skip
        with pytest.raises(LeaseLost):
            write()
    assert eng.leases.finish(ctx.lease, Outcome.COMPLETED) is None
    assert eng.require(job.id) == before
    assert "late" not in _messages(eng, job.id)
    assert ctx.should_stop()


def test_a_newer_claim_fences_off_the_older_attempt(eng: Engine) -> None:
    job = eng.enqueue("STUBBORN_IDEMPOTENT", {"seconds": 0})
    old = _claim_and_pause(eng)
    eng.reap()  # idempotent: back to PENDING
    (new,) = eng.leases.claim(new_owner(), limit=1)
    assert new.lease.attempt == old.lease.attempt + 1
    with pytest.raises(LeaseLost):
        old.log_info("from the old attempt")
    assert eng.leases.finish(new.lease, Outcome.COMPLETED) is not None
    assert eng.require(job.id).status is S.FINISHED


def test_an_idempotent_job_is_retried_a_capped_number_of_times(eng: Engine) -> None:
    job = eng.enqueue("STUBBORN_IDEMPOTENT", {"seconds": 0})
    for attempt in (1, 2):
        _claim_and_pause(eng)
        eng.reap()
        assert eng.require(job.id).status is S.PENDING, attempt
    _claim_and_pause(eng)
    eng.reap()
    ended = eng.require(job.id)
    assert ended.status is S.FINISHED and ended.has_errors
    messages = _messages(eng, job.id)
    assert messages[0].startswith("Retrying: ") and "Retry 1 of 2" in messages[0]
    assert "Retry 2 of 2" in messages[1]
    assert "gave up after its worker was lost 3 times" in messages[2]


def test_a_lost_job_that_was_stopping_ends_stopped_and_can_resume(
    eng: Engine, clock: ManualClock
) -> None:
    job = eng.enqueue("STEPPER", {})
    eng.leases.claim(new_owner(), limit=1)
    eng.stop(job.id)
    clock.advance(PAST_LEASE_MS)
    eng.reap()
    assert eng.require(job.id).status is S.STOPPED
    assert eng.resume(job.id).status is S.PENDING


def test_heartbeats_keep_a_lease_alive_past_its_length(eng: Engine, clock: ManualClock) -> None:
    """Five beats 0.3 s apart keep a 1 s lease for 1.5 s."""
    job = eng.enqueue("RECORD_RUN", {})
    owner = new_owner()
    (claimed,) = eng.leases.claim(owner, limit=1, lease_s=1.0)
    for _ in range(5):
        clock.advance(300)
        assert job.id in eng.leases.heartbeat(owner, 1.0)
        eng.reap()
    assert eng.leases.finish(claimed.lease, Outcome.COMPLETED) is not None


def test_a_finish_can_lease_the_next_job_in_the_same_transaction(eng: Engine) -> None:
    first, second = eng.enqueue("RECORD_RUN", {}), eng.enqueue("RECORD_RUN", {})
    owner = new_owner()
    (claimed,) = eng.leases.claim(owner, limit=1)
    spec = eng.leases.claim_spec(owner, limit=1)
    ended, following = eng.leases.finish_and_claim(
        claimed.lease, Outcome.COMPLETED, then_claim=spec
    )
    assert ended is not None and ended.id == first.id and ended.status is S.FINISHED
    assert [c.job.id for c in following] == [second.id]
    assert following[0].lease.owner == owner and following[0].lease.attempt == 1
    assert eng.require(second.id).status is S.RUNNING
    finish, claim = eng.events(first.id)[-1], eng.events(second.id)[-1]
    assert (finish.to_status, claim.to_status, claim.reason) == (S.FINISHED, S.RUNNING, "claimed")


def test_a_fenced_off_finish_still_leases_the_next_job(eng: Engine) -> None:
    first = eng.enqueue("RECORD_RUN", {})
    ctx = _claim_and_pause(eng)
    eng.reap()
    second = eng.enqueue("RECORD_RUN", {})
    owner = ctx.lease.owner
    ended, following = eng.leases.finish_and_claim(
        ctx.lease, Outcome.COMPLETED, then_claim=eng.leases.claim_spec(owner, limit=1)
    )
    assert ended is None and eng.require(first.id).status is S.FINISHED
    assert [c.job.id for c in following] == [second.id]


def test_a_finish_with_nothing_pending_leases_nothing(eng: Engine) -> None:
    eng.enqueue("RECORD_RUN", {})
    owner = new_owner()
    (claimed,) = eng.leases.claim(owner, limit=1)
    ended, following = eng.leases.finish_and_claim(
        claimed.lease, Outcome.COMPLETED, then_claim=eng.leases.claim_spec(owner, limit=1)
    )
    assert ended is not None and following == []


def test_several_ends_and_claims_share_one_transaction(eng: Engine) -> None:
    first, second, third = (eng.enqueue("RECORD_RUN", {}) for _ in range(3))
    owner = new_owner()
    a, b = eng.leases.claim(owner, limit=2)
    stale = FinishRequest(Lease(third.id, owner, 1), Outcome.COMPLETED)  # never claimed
    specs = [eng.leases.claim_spec(owner, limit=1) for _ in range(2)]
    pending = [eng.enqueue("RECORD_RUN", {}) for _ in range(2)]
    ended = eng.leases.finish_many([
        FinishRequest(a.lease, Outcome.COMPLETED, then_claim=specs[0]),
        stale,
        FinishRequest(b.lease, Outcome.FAILED, reason="boom", has_errors=True, then_claim=specs[1]),
    ])  # fmt: skip
    (job_a, next_a), (job_stale, next_stale), (job_b, next_b) = ended
    assert job_a is not None and job_a.status is S.FINISHED and not job_a.has_errors
    assert job_b is not None and job_b.status is S.FINISHED and job_b.has_errors
    assert job_stale is None and next_stale == []
    taken = [c.job.id for c in next_a + next_b]
    assert len(next_a) == len(next_b) == 1
    assert sorted(taken) == sorted([third.id, pending[0].id])  # oldest pending first
    assert {first.id, second.id} == {a.job.id, b.job.id}


def test_heartbeats_and_group_commits_of_the_same_jobs_never_deadlock(eng: Engine) -> None:
    """The heartbeat renews every lease a pool holds while the group commit ends some of
    them: both lock their rows in id order, so neither waits for the other in a cycle. (In
    a benchmark the heartbeat locked in the table's order, the ends in id order, and
    PostgreSQL aborted one of them as a deadlock now and then.)"""
    jobs = eng.enqueue_many("RECORD_RUN", [{}] * 60)
    owner = new_owner()
    claimed = eng.leases.claim(owner, limit=60)
    for c in sorted(claimed, key=lambda c: c.job.id, reverse=True):  # new row versions
        assert eng.leases.set_progress(c.lease, 1)
    ids = [c.job.id for c in claimed]
    failures: list[BaseException] = []
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            try:
                eng.leases.heartbeat(owner, 30.0, job_ids=ids)
            except BaseException as exc:
                failures.append(exc)

    beating = threading.Thread(target=beat)
    beating.start()
    try:
        for first in range(0, len(claimed), 6):
            batch = claimed[first : first + 6]
            ended = eng.leases.finish_many([FinishRequest(c.lease, Outcome.COMPLETED) for c in batch])
            assert all(job is not None for job, _next in ended)
    finally:
        stop.set()
        beating.join()
    assert failures == []
    assert {eng.require(j.id).status for j in jobs} == {S.FINISHED}


def test_a_group_commit_that_reads_no_ended_jobs_writes_the_same_ends(eng: Engine) -> None:
    """``finish_many(ended_jobs=False)`` (the pool's group commit) ends, fences and leases
    exactly as with the ended jobs built; only the pairs' first items are None."""
    done, stale_job, following = (eng.enqueue("RECORD_RUN", {}) for _ in range(3))
    owner = new_owner()
    a, b = eng.leases.claim(owner, limit=2)
    stale = FinishRequest(Lease(b.job.id, owner, b.lease.attempt + 1), Outcome.COMPLETED)
    spec = eng.leases.claim_spec(owner, limit=1)
    ended = eng.leases.finish_many(
        [FinishRequest(a.lease, Outcome.FAILED, reason="boom", has_errors=True,
                       results={"n": 1}, then_claim=spec), stale],
        ended_jobs=False,
    )  # fmt: skip
    assert [job for job, _next in ended] == [None, None]
    assert [c.job.id for c in ended[0][1]] == [following.id]
    first = eng.require(a.job.id)
    assert first.status is S.FINISHED and first.has_errors and first.results == {"n": 1}
    assert eng.require(b.job.id).status is S.RUNNING, "the stale lease was fenced off"
    assert {done.id, stale_job.id} == {a.job.id, b.job.id}


def test_claimers_racing_for_the_same_jobs_each_take_a_job_once(eng: Engine) -> None:
    """Six claimers, each its own connection, end and claim in a loop over 600 jobs, while
    a seventh thread cancels and re-prioritises pending ones under them (new row versions
    the claims' locks must follow): every job is leased at most once, each ends FINISHED
    or CANCELED, and only a canceled one may never have been leased. (The claim writes the
    rows it picked by the ``ctid`` it locked them at, revision 0007.)"""
    jobs = eng.enqueue_many("RECORD_RUN", [{}] * 600)
    taken: list[tuple[str, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def claimer() -> None:
        owner = new_owner()
        try:
            claimed = eng.leases.claim(owner, limit=8)
            while claimed:
                with lock:
                    taken.extend((c.job.id, c.lease.attempt) for c in claimed)
                requests = [
                    FinishRequest(c.lease, Outcome.COMPLETED,
                                  then_claim=eng.leases.claim_spec(owner, limit=1))
                    for c in claimed
                ]  # fmt: skip
                claimed = [c for _, more in eng.leases.finish_many(requests) for c in more]
                claimed = claimed or eng.leases.claim(owner, limit=8)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def meddler() -> None:
        for job in jobs[300::7]:
            eng.set_low_priority(job.id, True)
        for job in jobs[301::11]:
            with contextlib.suppress(SysError):  # (already finished: not cancelable)
                eng.cancel(job.id)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    threads.append(threading.Thread(target=meddler))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a claimer never finished"
    assert not failures, failures
    ids = [job_id for job_id, _ in taken]
    assert len(ids) == len(set(ids)), "a job was leased twice"
    assert {attempt for _, attempt in taken} == {1}
    leased = set(ids)
    for job in jobs:
        status = eng.require(job.id).status
        assert status in (S.FINISHED, S.CANCELED), (job.id, status)
        assert job.id in leased or status is S.CANCELED, (job.id, status)
