"""The state machine: every legal transition, every illegal one named by its status."""

from __future__ import annotations

import pytest

from sysjobs.errors import BadRequest, Conflict, NotFound
from sysjobs.jobs import Engine, JobStatus, Outcome, new_owner
from tests.integration.engine.jobtypes import register

S = JobStatus



@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def eng(engine: Engine) -> Engine:
    register(engine)
    return engine


def _claim_one(engine: Engine):  # type: ignore[no-untyped-def]
    (claimed,) = engine.leases.claim(new_owner(), limit=1)
    return claimed


def test_enqueue_creates_a_pending_job_with_a_time_ordered_id(eng: Engine) -> None:
    first = eng.enqueue("NOOP", {}, label="one", run_by={"id": "u1", "name": "Ann"})
    second = eng.enqueue("NOOP", {})
    assert first.status is S.PENDING and first.label == "one"
    assert first.run_by == {"id": "u1", "name": "Ann"}
    assert len(first.id) == 24 and first.id < second.id
    assert first.started_at is None and first.progress == 0 and not first.has_errors
    assert eng.require(first.id) == first


def test_enqueue_rejects_unknown_types_and_invalid_data(eng: Engine) -> None:
    with pytest.raises(BadRequest, match=r"parameter 'type'\. Allowed values: .*NOOP"):
        eng.enqueue("NOPE", {})
    with pytest.raises(BadRequest, match="Invalid data for job type ECHO: 'text'"):
        eng.enqueue("ECHO", {})


def test_get_rejects_malformed_ids_and_returns_none_for_unknown(eng: Engine) -> None:
    with pytest.raises(BadRequest, match="Invalid value 'xyz' for parameter 'id'"):
        eng.get("xyz")
    assert eng.get("0" * 24) is None
    with pytest.raises(NotFound):
        eng.require("0" * 24)


def test_claim_then_complete_finishes_with_full_progress(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    assert claimed.job.status is S.RUNNING and claimed.lease.attempt == 1
    done = eng.leases.finish(claimed.lease, Outcome.COMPLETED)
    assert done is not None and done.status is S.FINISHED and done.progress == 100
    assert done.ended_at is not None and done.started_at is not None
    assert [e.to_status for e in eng.events(job.id)] == [S.PENDING, S.RUNNING, S.FINISHED]


def test_stop_then_resume_continues_and_finishes(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    assert eng.stop(job.id).status is S.STOPPING
    assert eng.leases.finish(claimed.lease, Outcome.STOPPED).status is S.STOPPED  # type: ignore[union-attr]
    assert eng.resume(job.id).status is S.PENDING
    again = _claim_one(eng)
    assert again.lease.attempt == 2
    assert eng.leases.finish(again.lease, Outcome.COMPLETED).status is S.FINISHED  # type: ignore[union-attr]


def test_cancel_of_a_pending_job_passes_through_canceling_to_canceled(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    canceled = eng.cancel(job.id)
    assert canceled.status is S.CANCELED and canceled.ended_at is not None
    assert [e.to_status for e in eng.events(job.id)][-2:] == [S.CANCELING, S.CANCELED]


def test_cancel_of_a_stopped_job_cancels_it_at_once(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    eng.stop(job.id)
    eng.leases.finish(claimed.lease, Outcome.STOPPED)
    assert eng.cancel(job.id).status is S.CANCELED


def test_cancel_of_a_running_job_lands_when_the_worker_acknowledges(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    assert eng.cancel(job.id).status is S.CANCELING
    assert eng.leases.finish(claimed.lease, Outcome.STOPPED).status is S.CANCELED  # type: ignore[union-attr]


def test_a_job_that_finishes_before_the_cancel_lands_stays_finished(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    eng.cancel(job.id)  # requested, but the handler completed without seeing it
    assert eng.leases.finish(claimed.lease, Outcome.COMPLETED).status is S.FINISHED  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="its status is FINISHED"):
        eng.cancel(job.id)


def test_force_stop_sets_the_force_deadline_to_now(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    eng.stop(job.id)
    assert eng.force_stop(job.id).status is S.STOPPING
    status = eng.leases.lease_status(claimed.lease)
    assert status is not None and status[1] is not None


@pytest.mark.parametrize(
    ("verb", "status"),
    [
        ("stop", S.PENDING), ("stop", S.STOPPED), ("stop", S.FINISHED), ("stop", S.CANCELED),
        ("stop", S.STOPPING), ("force_stop", S.PENDING), ("force_stop", S.FINISHED),
        ("resume", S.PENDING), ("resume", S.RUNNING), ("resume", S.FINISHED),
        ("resume", S.CANCELED), ("cancel", S.FINISHED), ("cancel", S.CANCELED),
        ("cancel", S.CANCELING),
    ],
)  # fmt: skip
def test_illegal_transitions_raise_conflict_naming_the_current_status(
    eng: Engine, verb: str, status: JobStatus
) -> None:
    job_id = _job_in(eng, status)
    with pytest.raises(Conflict, match=f"its status is {status.value}") as raised:
        getattr(eng, verb)(job_id)
    assert isinstance(raised.value, BadRequest) and raised.value.info == {"status": status.value}
    assert eng.require(job_id).status is status


def test_transitions_of_unknown_jobs_raise_not_found(eng: Engine) -> None:
    for verb in ("stop", "force_stop", "resume", "cancel"):
        with pytest.raises(NotFound):
            getattr(eng, verb)("f" * 24)


def test_low_priority_can_be_set_and_removed(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    assert eng.set_low_priority(job.id, True).low_priority is True
    assert eng.set_low_priority(job.id, False).low_priority is False


def test_a_job_created_by_a_running_job_records_its_parent_and_root(eng: Engine) -> None:
    root = eng.enqueue("NOOP", {})
    child = eng.enqueue("NOOP", {}, parent_id=root.id)
    grandchild = eng.enqueue("NOOP", {}, parent_id=child.id)
    assert child.parent_id == root.id and child.root_id == root.id
    assert grandchild.parent_id == child.id and grandchild.root_id == root.id


def _job_in(eng: Engine, status: JobStatus) -> str:
    """A job brought to ``status`` through legal moves only."""
    job = eng.enqueue("NOOP", {})
    if status is S.PENDING:
        return job.id
    if status is S.CANCELED:
        eng.cancel(job.id)
        return job.id
    claimed = _claim_one(eng)
    if status is S.RUNNING:
        return job.id
    if status is S.FINISHED:
        eng.leases.finish(claimed.lease, Outcome.COMPLETED)
    elif status is S.CANCELING:
        eng.cancel(job.id)
    else:
        eng.stop(job.id)
        if status is S.STOPPED:
            eng.leases.finish(claimed.lease, Outcome.STOPPED)
    return job.id


def test_progress_between_writes_lands_with_the_jobs_end(eng: Engine) -> None:
    from sysjobs.jobs import JobContext

    job = eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    ctx = JobContext(eng, claimed.lease, claimed.job)
    ctx.set_progress(10)  # written at once
    ctx.set_progress(37)  # kept for the heartbeat or the end (off the hot row)
    assert eng.require(job.id).progress == 10
    eng.stop(job.id)
    stopped = eng.leases.finish(claimed.lease, Outcome.STOPPED, progress=ctx.state.progress)
    assert stopped is not None and stopped.progress == 37


def test_progress_outside_0_to_100_is_rejected(eng: Engine) -> None:
    from sysjobs.jobs import JobContext

    eng.enqueue("NOOP", {})
    claimed = _claim_one(eng)
    ctx = JobContext(eng, claimed.lease, claimed.job)
    for bad in (-1, 101, "50", True):
        with pytest.raises(BadRequest, match=r"parameter 'progress'\. Allowed values: 0 to 100"):
            ctx.set_progress(bad)  # type: ignore[arg-type]
