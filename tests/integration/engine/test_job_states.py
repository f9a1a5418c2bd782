"""The light reads of jobs a job waits on: status and progress, results apart.

An ``executeInJob`` owner looks at its parts again and again while they run; their whole
rows carry data, checkpoints and results that grow with the work. ``Engine.states`` reads
status and progress of many jobs in one query, ``Engine.wait_states`` waits on them with
nothing more, and ``Engine.results_of`` reads the results alone, once, at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.errors import BadRequest, NotFound
from sysjobs.jobs import Engine, JobStatus, Outcome, new_owner
from sysjobs.jobs.ids import new_job_id
from sysjobs.jobs.models import JobState
from tests.integration.engine.helpers import open_engine


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


def _finish(engine: Engine, results: dict[str, int] | None = None) -> str:
    """Claim the oldest pending job, set its progress, end it with ``results``."""
    (claimed,) = engine.leases.claim(new_owner(), limit=1)
    engine.leases.set_progress(claimed.lease, 40)
    engine.leases.finish(claimed.lease, Outcome.COMPLETED, results=results)
    return claimed.job.id


def test_states_are_status_and_progress_in_the_order_asked(eng: Engine) -> None:
    done, waiting = eng.enqueue("NOOP", {}), eng.enqueue("NOOP", {})
    _finish(eng)
    assert eng.states([waiting.id, done.id, waiting.id]) == [
        JobState(waiting.id, JobStatus.PENDING, 0),
        JobState(done.id, JobStatus.FINISHED, 100),
        JobState(waiting.id, JobStatus.PENDING, 0),
    ]
    assert eng.states([]) == []


def test_states_name_a_job_that_is_not_there_or_is_another_apps(eng: Engine) -> None:
    mine = eng.enqueue("NOOP", {})
    other = eng.for_app("someone-else")
    other.register(eng.registry.require("NOOP"))
    theirs = other.enqueue("NOOP", {})
    missing = new_job_id(0)
    for absent in (missing, theirs.id):
        with pytest.raises(NotFound) as raised:
            eng.states([mine.id, absent])
        assert raised.value.info == {"jobId": absent}
    with pytest.raises(BadRequest, match="'jobIds'"):
        eng.states([mine.id, "not-an-id"])
    with pytest.raises(BadRequest, match="'jobIds'"):
        eng.states(["\ud800" * 24])


def test_wait_states_answers_once_every_job_is_in_a_wanted_status(eng: Engine) -> None:
    first, second = eng.enqueue("NOOP", {}), eng.enqueue("NOOP", {})
    assert eng.wait_states([first.id, second.id], ["FINISHED"], 0) is None  # a timeout: None
    _finish(eng)
    assert eng.wait_states([first.id, second.id], ["FINISHED"], 0) is None
    _finish(eng)
    states = eng.wait_states([first.id, second.id], ["FINISHED", "CANCELED"], 30)
    assert states == [JobState(first.id, JobStatus.FINISHED, 100),
                      JobState(second.id, JobStatus.FINISHED, 100)]  # fmt: skip
    with pytest.raises(BadRequest, match="'desiredStatus'"):
        eng.wait_states([first.id], ["DONE"], 1)
    with pytest.raises(BadRequest, match="'maxTimeToWait'"):
        eng.wait_states([first.id], ["FINISHED"], float("nan"))


def test_results_of_reads_the_results_alone_of_this_apps_jobs(eng: Engine) -> None:
    eng.enqueue("NOOP", {})
    eng.enqueue("NOOP", {})
    counted = _finish(eng, {"itemsProcessed": 3})
    bare = _finish(eng)
    assert eng.results_of([counted, bare, new_job_id(0)]) == {
        counted: {"itemsProcessed": 3}, bare: None,
    }
    assert eng.results_of([]) == {}
    assert eng.for_app("someone-else").results_of([counted]) == {}
    with pytest.raises(BadRequest, match="'jobIds'"):
        eng.results_of([counted, 42])  # type: ignore[list-item]
