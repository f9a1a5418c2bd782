"""getCurrentJobId() / getCurrentJob()."""

from __future__ import annotations

from .helpers import JS, Jobs


def test_get_current_job_id_returns_the_id_of_the_job_the_script_is_running_on(
    js: JS, jobs: Jobs
) -> None:
    job = jobs.pending()
    assert js.value("sys.jobs.getCurrentJobId()", job_id=job) == job


def test_get_current_job_id_returns_null_outside_a_job(js: JS) -> None:
    assert js.value("sys.jobs.getCurrentJobId()") is None


def test_get_current_job_returns_the_job_the_script_is_running_on(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(label="the current one")
    src = "var j = sys.jobs.getCurrentJob(); [j instanceof sys.jobs.Job, j.id(), j.label()]"
    assert js.value(src, job_id=job) == [True, job, "the current one"]


def test_get_current_job_returns_null_outside_a_job(js: JS) -> None:
    assert js.value("sys.jobs.getCurrentJob()") is None
