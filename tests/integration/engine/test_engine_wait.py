"""``wait``: reads first, wakes on change (this process or another), times out with status."""

from __future__ import annotations

import time

import pytest

from sysjobs.errors import BadRequest, NotFound, Timeout
from sysjobs.jobs import Engine, EngineSettings, JobStatus, new_owner
from tests.integration.engine.helpers import once_waiting, open_engine
from tests.integration.engine.jobtypes import register


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def eng(engine: Engine) -> Engine:
    register(engine)
    return engine


def test_wait_returns_at_once_when_the_job_is_already_in_a_desired_status(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    assert eng.wait(job.id, "PENDING", 0).status is JobStatus.PENDING
    assert eng.wait(job.id, ["FINISHED", "PENDING"], 0).id == job.id


def test_wait_for_job_times_out_with_timeout_code_and_the_current_status(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    started = time.monotonic()
    with pytest.raises(Timeout, match="its status is PENDING") as raised:
        eng.wait(job.id, ["FINISHED"], 0.05)  # (the shortest limit shows the same timeout)
    assert time.monotonic() - started >= 0.05
    assert raised.value.code == "timeout" and raised.value.info["status"] == "PENDING"


def test_wait_wakes_when_another_thread_changes_the_job(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    # the change ends the wait, not its limit: a limit far beyond any test's time would
    # raise Timeout at its end, so no elapsed time needs asserting. The change comes once
    # the wait has read the job and blocks (not after a timer, which could fire first).
    with once_waiting([f"job:{job.id}"], lambda: eng.cancel(job.id)):
        assert eng.wait(job.id, ["CANCELED"], 600).status is JobStatus.CANCELED


def test_wait_wakes_on_a_change_made_through_another_engine(db_url: str, eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    with (
        open_engine(db_url) as other,  # another connection pool: a hint or the poll
        # (once_waiting joins the claim's thread: it hands its connection back first)
        once_waiting([f"job:{job.id}"], lambda: other.leases.claim(new_owner(), limit=1)),
    ):
        assert eng.wait(job.id, ["RUNNING"], 10).status is JobStatus.RUNNING


def test_wait_rejects_bad_statuses_and_timeouts_and_unknown_jobs(eng: Engine) -> None:
    job = eng.enqueue("NOOP", {})
    with pytest.raises(BadRequest, match="Invalid value 'DONE' for parameter 'desiredStatus'"):
        eng.wait(job.id, ["DONE"], 1)
    with pytest.raises(BadRequest, match="parameter 'desiredStatus'"):
        eng.wait(job.id, [], 1)
    with pytest.raises(BadRequest, match="parameter 'maxTimeToWait'"):
        eng.wait(job.id, ["FINISHED"], -1)
    with pytest.raises(BadRequest, match="parameter 'jobId'"):
        eng.wait("nope", ["FINISHED"], 1)
    with pytest.raises(NotFound):
        eng.wait("a" * 24, ["FINISHED"], 1)


def test_wait_still_wakes_with_notifications_switched_off(db_url: str) -> None:
    quiet = EngineSettings(hints=False)
    with open_engine(db_url, quiet) as waiter, open_engine(db_url, quiet) as changer:
        job = changer.enqueue("NOOP", {})
        with once_waiting([f"job:{job.id}"], lambda: changer.cancel(job.id)):
            assert waiter.wait(job.id, ["CANCELED"], 10).status is JobStatus.CANCELED
