"""waitForJob(jobId, desiredStatus, maxTimeToWait)."""

from __future__ import annotations

import time

import pytest

from tests.integration.engine.helpers import once_waiting

from .helpers import JS, Jobs

UNKNOWN = "0123456789abcdef01234567"
WAIT_STATUSES = ["PENDING", "RUNNING", "FINISHED", "STOPPING", "STOPPED", "CANCELING",
                 "CANCELED"]


def test_returns_when_the_job_reaches_the_status(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    with once_waiting([f"job:{job}"], lambda: jobs.cancel(job)):
        js.run_ok(f"sys.jobs.waitForJob('{job}', 'CANCELED', 10000)")
    assert str(jobs.get(job).status) == "CANCELED"


def test_returns_when_the_job_reaches_one_of_the_statuses(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    with once_waiting([f"job:{job}"], lambda: jobs.cancel(job)):
        js.run_ok(f"sys.jobs.waitForJob('{job}', ['FINISHED', 'CANCELED'], 10000)")


def test_returns_at_once_when_the_job_is_already_in_the_status(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    started = time.monotonic()
    js.run_ok(f"sys.jobs.waitForJob('{job}', 'FINISHED', 60000)")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("status", WAIT_STATUSES)
def test_valid_statuses(js: JS, jobs: Jobs, status: str) -> None:
    job = jobs.in_status(status)
    js.run_ok(f"sys.jobs.waitForJob('{job}', '{status}', 1000)")


def test_throws_timeout_if_maximum_wait_time_is_reached(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    code, message = js.error(f"sys.jobs.waitForJob('{job}', 'FINISHED', 50)")
    assert code == "timeout"
    assert job in message and "PENDING" in message


def test_the_timeout_can_be_caught_with_its_code(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    src = (f"try {{ sys.jobs.waitForJob('{job}', 'FINISHED', 100); }}"
           " catch (e) { log(sys.exceptions.getCode(e)); }")
    assert js.logs(src) == ["timeout"]


def test_never_outlives_the_scripts_own_deadline(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    src = (f"try {{ sys.jobs.waitForJob('{job}', 'FINISHED', 600000); }}"
           " catch (e) { log(sys.exceptions.getCode(e)); }")
    started = time.monotonic()
    assert js.logs(src, timeout_s=0.75) == ["timeout"]
    assert time.monotonic() - started < 60


def test_bad_request_if_job_id_is_invalid(js: JS) -> None:
    code, message = js.error("sys.jobs.waitForJob('zzz', 'FINISHED', 10)")
    assert code == "badRequest" and "'jobId'" in message


@pytest.mark.parametrize("desired", ["'DONE'", "['FINISHED', 'DONE']", "[]", "42", "null"])
def test_bad_request_if_desired_status_is_invalid(js: JS, jobs: Jobs, desired: str) -> None:
    job = jobs.pending()
    code, message = js.error(f"sys.jobs.waitForJob('{job}', {desired}, 10)")
    assert code == "badRequest" and "'desiredStatus'" in message


@pytest.mark.parametrize("max_time", ["'soon'", "-1", "undefined"])
def test_bad_request_if_max_time_to_wait_is_invalid(js: JS, jobs: Jobs, max_time: str) -> None:
    job = jobs.pending()
    code, message = js.error(f"sys.jobs.waitForJob('{job}', 'FINISHED', {max_time})")
    assert code == "badRequest" and "'maxTimeToWait'" in message


def test_not_found_if_no_job_is_found_with_the_given_id(js: JS) -> None:
    assert js.error(f"sys.jobs.waitForJob('{UNKNOWN}', 'FINISHED', 10)")[0] == "notFound"
