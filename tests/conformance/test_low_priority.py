"""setLowPriority(jobId) / removeLowPriority(jobId)."""

from __future__ import annotations

import pytest

from sysjobs.jobs import Engine, new_owner

from .helpers import JS, Jobs

UNKNOWN = "0123456789abcdef01234567"


def test_set_low_priority_sets_the_low_priority_flag(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    js.run_ok(f"sys.jobs.setLowPriority('{job}')")
    assert jobs.get(job).low_priority is True


def test_remove_low_priority_removes_the_low_priority_flag(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(low_priority=True)
    js.run_ok(f"sys.jobs.removeLowPriority('{job}')")
    assert jobs.get(job).low_priority is False


@pytest.mark.parametrize("fn", ["setLowPriority", "removeLowPriority"])
def test_bad_request_if_job_id_is_invalid(js: JS, fn: str) -> None:
    code, message = js.error(f"sys.jobs.{fn}('12345')")
    assert code == "badRequest" and "'jobId'" in message and "12345" in message


@pytest.mark.parametrize("fn", ["setLowPriority", "removeLowPriority"])
def test_not_found_if_no_job_is_found_with_the_given_id(js: JS, fn: str) -> None:
    assert js.error(f"sys.jobs.{fn}('{UNKNOWN}')")[0] == "notFound"


def test_other_jobs_have_more_priority_than_a_low_priority_one(
    js: JS, jobs: Jobs, jobs_engine: Engine
) -> None:
    """"if there are other jobs running they will have more priority than this one"."""
    older = jobs.pending(queue="light")
    newer = jobs.pending(queue="light")
    js.run_ok(f"sys.jobs.setLowPriority('{older}')")
    first = jobs_engine.leases.claim(new_owner(), limit=1, queues=("light",))
    assert [c.job.id for c in first] == [newer]
    second = jobs_engine.leases.claim(new_owner(), limit=1, queues=("light",))
    assert [c.job.id for c in second] == [older]


def test_without_the_flag_the_older_job_goes_first(
    js: JS, jobs: Jobs, jobs_engine: Engine
) -> None:
    older = jobs.pending(queue="light", low_priority=True)
    jobs.pending(queue="light")
    js.run_ok(f"sys.jobs.removeLowPriority('{older}')")
    first = jobs_engine.leases.claim(new_owner(), limit=1, queues=("light",))
    assert [c.job.id for c in first] == [older]
